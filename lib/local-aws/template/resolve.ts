import { localPhysicalResources, resolveIntrinsics, type LocalPlacement, type PhysicalResource } from "./intrinsics.ts";
import { resourcesOfType, type CfnResource, type CfnTemplate } from "./template.ts";

/**
 * A template resolved against one placement: what every part of the runtime reads (routes,
 * tables, queues, functions, event sources, outputs), each resource resolved at most once.
 */
export interface ResolvedTemplate {
  readonly template: CfnTemplate;
  readonly placement: LocalPlacement;
  /** The stack's outputs, resolved to their local values. */
  readonly outputs: Readonly<Record<string, string>>;
  ofType(type: string): [string, CfnResource][];
  physical(logicalId: string): PhysicalResource;
  /** The resource's properties with every intrinsic function resolved. */
  properties(logicalId: string): Record<string, unknown>;
}

export function resolveTemplate(template: CfnTemplate, placement: LocalPlacement): ResolvedTemplate {
  const physicalResources = localPhysicalResources(template, placement);
  const resolvedProperties = new Map<string, Record<string, unknown>>();
  const outputs = Object.fromEntries(
    Object.entries(template.Outputs ?? {}).map(([name, output]) => [
      name,
      String(resolveIntrinsics(output.Value, physicalResources, placement)),
    ]),
  );
  return {
    template,
    placement,
    outputs,
    ofType: (type) => resourcesOfType(template, type),
    physical(logicalId) {
      const resource = physicalResources.get(logicalId);
      if (!resource) throw new Error(`No local resource ${logicalId}`);
      return resource;
    },
    properties(logicalId) {
      let properties = resolvedProperties.get(logicalId);
      if (!properties) {
        const declared = template.Resources[logicalId]?.Properties ?? {};
        properties = resolveIntrinsics(declared, physicalResources, placement) as Record<string, unknown>;
        resolvedProperties.set(logicalId, properties);
      }
      return properties;
    },
  };
}
