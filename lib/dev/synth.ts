import { AssetStaging } from "aws-cdk-lib";
import { buildApp } from "../app.ts";
import { STACK_NAME } from "../../lambdas/contract/resources.ts";
import type { CfnTemplate, SynthesizedStack } from "../local-aws/template/template.ts";

/**
 * Synthesizes the product's CDK app, as `cdk synth` does, into `outdir`: the local runtime
 * runs exactly this template and these bundles. Asset metadata is switched on because the
 * CDK CLI sets it and the runtime finds each function's bundle through it.
 */
export function synthesizeProduct(outdir: string, context: Readonly<Record<string, unknown>> = {}): SynthesizedStack {
  // The CDK caches bundles per process by source hash; the output folder may be new.
  AssetStaging.clearAssetHashCache();
  const { app } = buildApp({
    outdir,
    context: { "aws:cdk:enable-asset-metadata": true, ...context },
  });
  const assembly = app.synth();
  const stack = assembly.getStackByName(STACK_NAME);
  return { stackName: STACK_NAME, template: stack.template as CfnTemplate, assemblyDir: assembly.directory };
}
