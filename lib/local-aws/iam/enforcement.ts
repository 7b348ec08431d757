import { evaluate } from "./policy.ts";
import { startAuthorizingProxy, type Authorize, type ProxiedCall } from "./authorizing-proxy.ts";
import { dynamodbApi, sqsApi, type ArnPlacement, type AuthorizedApi, type RequestedAccess } from "./requests.ts";
import type { FunctionIdentity } from "./roles.ts";

/** A call a function's execution role did not allow, refused as AWS refuses it. */
export interface AccessDenial {
  readonly functionId: string;
  readonly action: string;
  readonly resource: string;
  readonly when: Date;
  /** AWS's message, as the function's SDK saw it. */
  readonly message: string;
}

export class AccessDeniedError extends Error {
  constructor(readonly denial: AccessDenial) {
    super(denial.message);
    this.name = "AccessDeniedError";
  }
}

/** The access key id a function's environment signs with; the proxies know the caller by it. */
export function functionAccessKeyId(functionId: string): string {
  return `local-${functionId}`;
}

/** A DynamoDB or SQS call that went through, and its caller: a function, or another client (the engine, a test, a tool). */
export interface ObservedRequest extends Omit<ProxiedCall, "accessKeyId"> {
  readonly service: "dynamodb" | "sqs";
  /** The function whose role signed it (its event source mappings included); undefined for other callers. */
  readonly functionId: string | undefined;
}

export type RequestObserver = (request: ObservedRequest) => void;

export interface IamEnforcement {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** Starts authorizing the functions' calls; until then only other callers get through. */
  enforce(identities: readonly FunctionIdentity[]): void;
  /** Checks `access` for a function outside any call (what AWS checks when it creates an event source mapping). */
  authorize(functionId: string, access: readonly RequestedAccess[]): AccessDenial | undefined;
  accessDenials(): readonly AccessDenial[];
  /** Reports every call that goes through, once answered, until the returned function is called. */
  observe(observer: RequestObserver): () => void;
  close(): Promise<void>;
}

/**
 * Authorizing proxies in front of the DynamoDB and SQS emulators. A call signed with a
 * function's access key id is checked against that function's execution role, every
 * resource it names (each table of a batch); calls signed otherwise (the engine's own
 * provisioning, tests, tools) pass unchecked.
 */
export async function startIamEnforcement(options: {
  readonly placement: ArnPlacement;
  readonly host: string;
  readonly ports: { readonly dynamodb: number; readonly sqs: number };
  readonly emulators: { readonly dynamodb: string; readonly sqs: string };
  readonly onDenial: (denial: AccessDenial) => void;
}): Promise<IamEnforcement> {
  const byAccessKey = new Map<string, FunctionIdentity>();
  const denials: AccessDenial[] = [];
  const authorize = (identity: FunctionIdentity, access: readonly RequestedAccess[]): AccessDenial | undefined => {
    for (const { action, resource } of access) {
      const decision = evaluate(identity.statements, action, resource);
      if (decision === "allowed") continue;
      const reason =
        decision === "explicitDeny"
          ? "with an explicit deny in an identity-based policy"
          : `because no identity-based policy allows the ${action} action`;
      const message =
        `User: arn:aws:sts::${options.placement.accountId}:assumed-role/${identity.roleName}/${identity.functionName} ` +
        `is not authorized to perform: ${action} on resource: ${resource} ${reason}`;
      const denial = { functionId: identity.functionId, action, resource, when: new Date(), message };
      denials.push(denial);
      options.onDenial(denial);
      return denial;
    }
    return undefined;
  };
  const authorizer =
    (api: AuthorizedApi): Authorize =>
    (accessKeyId, access) => {
      const identity = accessKeyId === undefined ? undefined : byAccessKey.get(accessKeyId);
      if (!identity) return undefined;
      // A function's call the proxy cannot read (another protocol) is refused rather than waved through.
      const denial = authorize(identity, access ?? [{ action: `${api.service}:<unreadable request>`, resource: "*" }]);
      return denial && api.accessDenied(denial.message);
    };
  const observers = new Set<RequestObserver>();
  const reporter = (service: "dynamodb" | "sqs") => () =>
    observers.size === 0
      ? undefined
      : ({ accessKeyId, ...call }: ProxiedCall) => {
          const request: ObservedRequest = { ...call, service, functionId: accessKeyId === undefined ? undefined : byAccessKey.get(accessKeyId)?.functionId };
          for (const observer of observers) observer(request);
        };
  const proxy = (api: AuthorizedApi, service: "dynamodb" | "sqs") =>
    startAuthorizingProxy({
      reporter: reporter(service),
      api,
      emulatorEndpoint: options.emulators[service],
      host: options.host,
      port: options.ports[service],
      // The port the user chose for the emulator, so named after it.
      what: service === "dynamodb" ? "DynamoDB emulator" : "SQS emulator",
      authorize: authorizer(api),
    });
  const dynamodb = await proxy(dynamodbApi(options.placement), "dynamodb");
  const sqs = await proxy(sqsApi(options.placement), "sqs").catch(async (error: unknown) => {
    await dynamodb.close();
    throw error;
  });
  return {
    dynamodbEndpoint: dynamodb.endpoint,
    sqsEndpoint: sqs.endpoint,
    enforce(identities) {
      for (const identity of identities) byAccessKey.set(functionAccessKeyId(identity.functionId), identity);
    },
    authorize(functionId, access) {
      const identity = byAccessKey.get(functionAccessKeyId(functionId));
      if (!identity) throw new Error(`No identity for function ${functionId}`);
      return authorize(identity, access);
    },
    accessDenials: () => [...denials],
    observe(observer) {
      observers.add(observer);
      return () => void observers.delete(observer);
    },
    close: async () => {
      await Promise.all([dynamodb.close(), sqs.close()]);
    },
  };
}
