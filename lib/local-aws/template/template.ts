/** The parts of a synthesized CloudFormation template the local runtime reads. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown }>>;
}

export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** The cloud assembly directory: asset paths in resource metadata are relative to it. */
  readonly assemblyDir: string;
}

/** Resource types the local runtime emulates. */
export const EMULATED_TYPES = new Set([
  "AWS::DynamoDB::Table",
  "AWS::SQS::Queue",
  "AWS::Lambda::Function",
  "AWS::Lambda::EventSourceMapping",
  "AWS::ApiGatewayV2::Api",
  "AWS::ApiGatewayV2::Route",
  "AWS::ApiGatewayV2::Integration",
  "AWS::ApiGatewayV2::Authorizer",
  "AWS::ApiGatewayV2::Stage",
]);

/**
 * Resource types with no resource of their own locally: permissions (IAM roles and policies
 * are read by iam/ to authorize the functions' calls), keys, log storage, alarms and their
 * notifications, dashboards and metadata.
 * They are accepted so the same template runs; anything else is refused by name.
 */
export const INERT_TYPES = new Set([
  "AWS::IAM::Role",
  "AWS::IAM::Policy",
  "AWS::IAM::ManagedPolicy",
  "AWS::KMS::Key",
  "AWS::Lambda::Permission",
  "AWS::Logs::LogGroup",
  "AWS::SQS::QueuePolicy",
  "AWS::CloudWatch::Alarm",
  "AWS::CloudWatch::Dashboard",
  "AWS::SNS::Topic",
  "AWS::SNS::TopicPolicy",
  "AWS::SNS::Subscription",
  "AWS::CDK::Metadata",
]);

export class UnsupportedResourceError extends Error {
  constructor(logicalId: string, type: string) {
    super(
      `The local runtime cannot run resource ${logicalId} of type ${type}: ` +
        `supported types are ${[...EMULATED_TYPES, ...INERT_TYPES].join(", ")}`,
    );
    this.name = "UnsupportedResourceError";
  }
}

export function assertSupported(template: CfnTemplate): void {
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!EMULATED_TYPES.has(resource.Type) && !INERT_TYPES.has(resource.Type)) {
      throw new UnsupportedResourceError(logicalId, resource.Type);
    }
  }
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}
