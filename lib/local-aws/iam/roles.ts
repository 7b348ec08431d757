import type { ResolvedTemplate } from "../template/resolve.ts";
import { statementsOf, type PolicyStatement } from "./policy.ts";

/** The services whose calls the engine authorizes; statements about anything else are not read. */
export const AUTHORIZED_SERVICES = ["dynamodb", "sqs"] as const;

/** Who a function's calls run as, and what its execution role allows. */
export interface FunctionIdentity {
  readonly functionId: string;
  readonly functionName: string;
  readonly roleName: string;
  readonly statements: readonly PolicyStatement[];
}

/**
 * Each function's execution role as the template declares it: the role's inline `Policies`,
 * every `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` of the stack attached to it (by
 * `Roles` or the role's `ManagedPolicyArns`). Managed policies from outside the stack (AWS's,
 * such as AWSLambdaBasicExecutionRole) are unknown here and grant nothing.
 */
export function functionIdentities(resolved: ResolvedTemplate): FunctionIdentity[] {
  const roles = resolved.ofType("AWS::IAM::Role").map(([logicalId]) => ({ logicalId, ...resolved.physical(logicalId) }));
  const attached = [...resolved.ofType("AWS::IAM::Policy"), ...resolved.ofType("AWS::IAM::ManagedPolicy")].map(([logicalId]) => {
    const props = resolved.properties(logicalId);
    return {
      logicalId,
      arn: resolved.physical(logicalId).ref,
      roles: (props["Roles"] as unknown[] | undefined) ?? [],
      statements: statementsOf(props["PolicyDocument"], `Policy ${logicalId}`, AUTHORIZED_SERVICES),
    };
  });
  return resolved.ofType("AWS::Lambda::Function").map(([functionId]) => {
    const roleArn = resolved.properties(functionId)["Role"];
    const role = roles.find((candidate) => candidate.attributes["Arn"] === roleArn);
    if (!role) {
      throw new Error(`Function ${functionId}: role ${String(roleArn)} is not a role of this stack, so its permissions are unknown locally`);
    }
    const props = resolved.properties(role.logicalId);
    const managedArns = (props["ManagedPolicyArns"] as unknown[] | undefined) ?? [];
    const inline = ((props["Policies"] as { PolicyName?: string; PolicyDocument?: unknown }[] | undefined) ?? []).flatMap((policy) =>
      statementsOf(policy.PolicyDocument, `Role ${role.logicalId} policy ${String(policy.PolicyName)}`, AUTHORIZED_SERVICES),
    );
    const fromPolicies = attached
      .filter((policy) => policy.roles.includes(role.ref) || managedArns.includes(policy.arn))
      .flatMap((policy) => policy.statements);
    return {
      functionId,
      functionName: resolved.physical(functionId).ref,
      roleName: role.ref,
      statements: [...inline, ...fromPolicies],
    };
  });
}
