/**
 * Identity-based policy evaluation as IAM does it for one principal: an explicit Deny wins,
 * then any Allow, otherwise the request is implicitly denied. Actions match case-insensitively,
 * resources case-sensitively, `*` and `?` as wildcards in both.
 */

export interface PolicyStatement {
  readonly effect: "Allow" | "Deny";
  /** Exactly one of `actions` and `notActions`. */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  /** Exactly one of `resources` and `notResources`. */
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
}

export type Decision = "allowed" | "implicitDeny" | "explicitDeny";

export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): Decision {
  const applying = statements.filter((statement) => applies(statement, action, resource));
  if (applying.some((statement) => statement.effect === "Deny")) return "explicitDeny";
  return applying.length > 0 ? "allowed" : "implicitDeny";
}

function applies(statement: PolicyStatement, action: string, resource: string): boolean {
  const actionMatches = statement.actions
    ? statement.actions.some((pattern) => wildcard(pattern, "i").test(action))
    : !statement.notActions!.some((pattern) => wildcard(pattern, "i").test(action));
  const resourceMatches = statement.resources
    ? statement.resources.some((pattern) => wildcard(pattern, "").test(resource))
    : !statement.notResources!.some((pattern) => wildcard(pattern, "").test(resource));
  return actionMatches && resourceMatches;
}

const patterns = new Map<string, RegExp>();

/** `*` is any run of characters (across `:` and `/` too), `?` any one character. */
function wildcard(pattern: string, flags: "i" | ""): RegExp {
  const key = `${flags}${pattern}`;
  let regex = patterns.get(key);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
    regex = new RegExp(`^${source}$`, flags);
    patterns.set(key, regex);
  }
  return regex;
}

/**
 * The statements of a policy document (intrinsics resolved), refusing what this evaluator
 * would have to guess at: conditions other than `aws:SecureTransport` (local traffic counts as
 * secure transport), principals, and statements without exactly one action and one resource
 * element. Statements that cannot concern `services` are skipped unread.
 */
export function statementsOf(document: unknown, where: string, services: readonly string[]): PolicyStatement[] {
  const raw = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const statements: PolicyStatement[] = [];
  for (const [index, entry] of list.entries()) {
    const at = `${where}, statement ${index}`;
    const statement = entry as Record<string, unknown>;
    const actions = strings(statement["Action"]);
    const notActions = strings(statement["NotAction"]);
    if ((actions === undefined) === (notActions === undefined)) throw new Error(`${at}: needs exactly one of Action and NotAction`);
    if (actions && !actions.some((action) => services.some((service) => wildcard(action.split(":")[0]!, "i").test(service)))) {
      continue;
    }
    const effect = statement["Effect"];
    if (effect !== "Allow" && effect !== "Deny") throw new Error(`${at}: Effect ${String(effect)} is neither Allow nor Deny`);
    const resources = strings(statement["Resource"]);
    const notResources = strings(statement["NotResource"]);
    if ((resources === undefined) === (notResources === undefined)) throw new Error(`${at}: needs exactly one of Resource and NotResource`);
    if (statement["Principal"] !== undefined || statement["NotPrincipal"] !== undefined) {
      throw new Error(`${at}: an identity-based policy cannot name a principal`);
    }
    if (statement["Condition"] !== undefined && !conditionHolds(statement["Condition"], at)) continue;
    statements.push({
      effect,
      ...(actions ? { actions } : { notActions: notActions! }),
      ...(resources ? { resources } : { notResources: notResources! }),
    });
  }
  return statements;
}

function strings(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  // Fn::If's AWS::NoValue resolves to undefined inside lists.
  return list.filter((item) => item !== undefined).map(String);
}

/** Only `Bool`/`BoolIfExists` on `aws:SecureTransport` is decidable locally: the engine's traffic counts as secure. */
function conditionHolds(condition: unknown, at: string): boolean {
  return Object.entries(condition as Record<string, Record<string, unknown>>).every(([operator, keys]) =>
    Object.entries(keys).every(([key, value]) => {
      if ((operator !== "Bool" && operator !== "BoolIfExists") || key.toLowerCase() !== "aws:securetransport") {
        throw new Error(`${at}: condition ${operator} on ${key} cannot be evaluated locally`);
      }
      return (strings(value) ?? []).some((expected) => expected.toLowerCase() === "true");
    }),
  );
}
