import type { CfnTemplate } from "./template.ts";

/** Where the local stack "is": the values pseudo parameters and physical ids resolve to. */
export interface LocalPlacement {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly sqsEndpoint: string;
  readonly apiEndpoint: string;
  readonly apiId: string;
}

/** What `Ref` and `Fn::GetAtt` give for one resource. */
export interface PhysicalResource {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Physical names and attributes of every resource as the local runtime creates them:
 * `<stack>-<logicalId>` unless the template names the resource itself, ARNs in the local
 * account, queue URLs on the SQS emulator's own origin (so AWS_ENDPOINT_URL_SQS matches).
 */
export function localPhysicalResources(template: CfnTemplate, at: LocalPlacement): Map<string, PhysicalResource> {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${at.region}:${at.accountId}:${rest}`;
  const resources = new Map<string, PhysicalResource>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const named = (key: string) => (typeof props[key] === "string" ? (props[key] as string) : `${at.stackName}-${logicalId}`);
    switch (resource.Type) {
      case "AWS::DynamoDB::Table": {
        const name = named("TableName");
        const tableArn = arn("dynamodb", `table/${name}`);
        resources.set(logicalId, { ref: name, attributes: { Arn: tableArn, StreamArn: `${tableArn}/stream/local` } });
        break;
      }
      case "AWS::SQS::Queue": {
        // CloudFormation names a FIFO queue it names itself with the suffix SQS requires.
        const name = typeof props["QueueName"] === "string" || props["FifoQueue"] !== true ? named("QueueName") : `${named("QueueName")}.fifo`;
        const url = `${at.sqsEndpoint}/${at.accountId}/${name}`;
        resources.set(logicalId, { ref: url, attributes: { Arn: arn("sqs", name), QueueName: name, QueueUrl: url } });
        break;
      }
      case "AWS::Lambda::Function": {
        const name = named("FunctionName");
        resources.set(logicalId, { ref: name, attributes: { Arn: arn("lambda", `function:${name}`) } });
        break;
      }
      case "AWS::IAM::Role": {
        const name = named("RoleName");
        resources.set(logicalId, {
          ref: name,
          attributes: { Arn: `arn:aws:iam::${at.accountId}:role/${name}`, RoleId: `LOCAL${logicalId}` },
        });
        break;
      }
      case "AWS::IAM::ManagedPolicy": {
        // Ref gives a managed policy's ARN.
        const policyArn = `arn:aws:iam::${at.accountId}:policy/${named("ManagedPolicyName")}`;
        resources.set(logicalId, { ref: policyArn, attributes: { PolicyArn: policyArn } });
        break;
      }
      case "AWS::Logs::LogGroup": {
        const name = named("LogGroupName");
        resources.set(logicalId, { ref: name, attributes: { Arn: arn("logs", `log-group:${name}:*`) } });
        break;
      }
      case "AWS::ApiGatewayV2::Api":
        resources.set(logicalId, { ref: at.apiId, attributes: { ApiEndpoint: at.apiEndpoint, ApiId: at.apiId } });
        break;
      default:
        resources.set(logicalId, { ref: logicalId, attributes: {} });
    }
  }
  return resources;
}

export class IntrinsicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntrinsicError";
  }
}

/**
 * Resolves CloudFormation intrinsic functions against the local physical resources:
 * Ref (resources and pseudo parameters), Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and
 * Fn::Split. Anything else is refused by name rather than passed through half-resolved.
 */
export function resolveIntrinsics(
  value: unknown,
  resources: ReadonlyMap<string, PhysicalResource>,
  at: LocalPlacement,
): unknown {
  const resolve = (v: unknown): unknown => resolveIntrinsics(v, resources, at);
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length !== 1 || !first || !(first[0] === "Ref" || first[0].startsWith("Fn::"))) {
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  }
  const [fn, arg] = first;
  switch (fn) {
    case "Ref":
      return ref(String(arg), resources, at);
    case "Fn::GetAtt": {
      const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
      return getAtt(String(logicalId), String(attribute), resources);
    }
    case "Fn::Join": {
      const [separator, parts] = arg as [string, unknown];
      const list = resolve(parts);
      if (!Array.isArray(list)) throw new IntrinsicError("Fn::Join needs a list");
      return list.map((part) => stringOf(part, "Fn::Join")).join(separator);
    }
    case "Fn::Select": {
      const [index, list] = arg as [unknown, unknown];
      const items = resolve(list);
      const i = Number(resolve(index));
      if (!Array.isArray(items) || !(i in items)) throw new IntrinsicError(`Fn::Select index ${i} is out of range`);
      return items[i];
    }
    case "Fn::Split": {
      const [separator, source] = arg as [string, unknown];
      return stringOf(resolve(source), "Fn::Split").split(separator);
    }
    case "Fn::Sub": {
      const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
      const bound = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
        if (name in bound) return stringOf(bound[name], "Fn::Sub");
        if (name.includes(".")) {
          const [logicalId, attribute] = name.split(/\.(.*)/s);
          return getAtt(String(logicalId), String(attribute), resources);
        }
        return ref(name, resources, at);
      });
    }
    default:
      throw new IntrinsicError(`The local runtime does not resolve ${fn}`);
  }
}

function ref(name: string, resources: ReadonlyMap<string, PhysicalResource>, at: LocalPlacement): string {
  switch (name) {
    case "AWS::Region":
      return at.region;
    case "AWS::AccountId":
      return at.accountId;
    case "AWS::StackName":
      return at.stackName;
    case "AWS::Partition":
      return "aws";
    case "AWS::URLSuffix":
      return "amazonaws.com";
    case "AWS::StackId":
      return `arn:aws:cloudformation:${at.region}:${at.accountId}:stack/${at.stackName}/local`;
  }
  const resource = resources.get(name);
  if (!resource) throw new IntrinsicError(`Ref to unknown resource or parameter ${name}`);
  return resource.ref;
}

function getAtt(logicalId: string, attribute: string, resources: ReadonlyMap<string, PhysicalResource>): string {
  const value = resources.get(logicalId)?.attributes[attribute];
  if (value === undefined) throw new IntrinsicError(`Fn::GetAtt ${logicalId}.${attribute} has no local value`);
  return value;
}

function stringOf(value: unknown, where: string): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  throw new IntrinsicError(`${where} got a non-scalar value ${JSON.stringify(value)}`);
}
