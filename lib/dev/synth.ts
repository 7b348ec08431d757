import { AssetStaging, type CfnElement, type Stack } from "aws-cdk-lib";
import { Table } from "aws-cdk-lib/aws-dynamodb";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { buildApp } from "../app.ts";
import { RESOURCE_IDS, STACK_NAME } from "../../lambdas/contract/resources.ts";
import type { CfnTemplate, SynthesizedStack } from "../local-aws/template/template.ts";

/** The product's queues, by their key in RESOURCE_IDS. */
export type ProductQueue = Exclude<keyof typeof RESOURCE_IDS, "table" | "api">;

export interface SynthesizedProduct extends SynthesizedStack {
  /** Logical ids of the stateful resources, as the CDK assigned them, to find them in the runtime. */
  readonly logicalIds: {
    readonly table: string;
    readonly queues: Readonly<Record<ProductQueue, string>>;
    /** Each function by the id of the construct that declares it (`Deliver`, `Dispatch`, `configRoutes`, …). */
    readonly functions: Readonly<Record<string, string>>;
  };
}

/**
 * Synthesizes the product's CDK app, as `cdk synth` does, into `outdir`: the local runtime
 * runs exactly this template and these bundles. Asset metadata is switched on because the
 * CDK CLI sets it and the runtime finds each function's bundle through it.
 */
export function synthesizeProduct(
  outdir: string,
  context: Readonly<Record<string, unknown>> = {},
  options: { readonly verbose?: boolean } = {},
): SynthesizedProduct {
  // The CDK caches bundles per process by source hash; the output folder may be new.
  AssetStaging.clearAssetHashCache();
  // Functions are bundled as the app is built.
  const build = () => {
    const { app, stack } = buildApp({ outdir, context: { "aws:cdk:enable-asset-metadata": true, ...context } });
    return { stack, assembly: app.synth() };
  };
  const { stack, assembly } = options.verbose ? build() : withoutBundlingProgress(build);
  return {
    stackName: STACK_NAME,
    template: assembly.getStackByName(STACK_NAME).template as CfnTemplate,
    assemblyDir: assembly.directory,
    logicalIds: logicalIdsOf(stack),
  };
}

function logicalIdsOf(stack: Stack): SynthesizedProduct["logicalIds"] {
  const constructs = stack.node.findAll();
  const logicalId = (construct: { node: { defaultChild?: unknown } } | undefined, what: string) => {
    if (!construct) throw new Error(`The stack has no ${what}`);
    return stack.getLogicalId(construct.node.defaultChild as CfnElement);
  };
  const queues = constructs.filter((construct) => construct instanceof Queue);
  const queueKeys = Object.keys(RESOURCE_IDS).filter((key) => key !== "table" && key !== "api") as ProductQueue[];
  const functions = constructs.filter((construct) => construct instanceof LambdaFunction && construct.node.scope !== undefined);
  return {
    functions: Object.fromEntries(functions.map((fn) => [fn.node.scope!.node.id, logicalId(fn, `function ${fn.node.path}`)])),
    table: logicalId(constructs.find((construct) => construct instanceof Table), "table"),
    queues: Object.fromEntries(
      queueKeys.map((key) => [key, logicalId(queues.find((queue) => queue.node.id === RESOURCE_IDS[key]), `queue ${key}`)]),
    ) as Record<ProductQueue, string>,
  };
}

/** Runs `work` without the CDK's "Bundling asset …" progress lines on stderr (everything else still shows). */
function withoutBundlingProgress<T>(work: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === "string" && chunk.startsWith("Bundling asset ")
      ? true
      : (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest)) as typeof process.stderr.write;
  try {
    return work();
  } finally {
    process.stderr.write = write;
  }
}
