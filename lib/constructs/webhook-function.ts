import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, LoggingFormat, Runtime } from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat, type ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import path from "node:path";

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");
const BUNDLE_SHIMS = path.join(PROJECT_ROOT, "lambdas", "bundle");

/**
 * Modules the bundles take from lambdas/bundle instead (esbuild aliases), each measured by
 * `npm run bench -- --only footprint`: the SDK's credential chain becomes the environment
 * (what Lambda provides), `node:http` is loaded as CommonJS (see the files for why).
 */
const BUNDLE_ALIASES = [
  `@aws-sdk/credential-provider-node=${path.join(BUNDLE_SHIMS, "aws-credentials.ts")}`,
  `http=${path.join(BUNDLE_SHIMS, "node-http.cjs")}`,
  `node:http=${path.join(BUNDLE_SHIMS, "node-http.cjs")}`,
];

/**
 * Bundling hooks that copy a folder into the bundle's output. The asset hash covers the
 * command, so name the folder by its content (see console/build.ts) to have a change of the
 * files change the asset.
 */
function copyBeside(from: string, as: string): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => [`cp -R ${JSON.stringify(from)} ${JSON.stringify(path.join(outputDir, as))}`],
  };
}

export interface WebhookFunctionProps {
  /** Entry file, relative to `lambdas/`. */
  readonly entry: string;
  readonly description: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /**
   * Concurrent executions set aside for this function (and its cap). Lambda keeps 100 of the
   * account's quota unreserved, so a new account (quota 10) can reserve none.
   * @default none: the function shares the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /** A folder copied beside the bundle under the name `as` (the web console's files), read by the handler. */
  readonly files?: { readonly from: string; readonly as: string };
}

/**
 * A product Lambda function with the project's defaults: Node.js 24 on arm64, an ESM
 * bundle built by the local esbuild (no Docker) with the AWS SDK bundled in, so the code
 * that runs locally is byte for byte what is deployed; JSON logs into a log group with a
 * retention; a role that may write only to that log group (grants add the rest).
 */
export class WebhookFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, "Logs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Runs ${props.entry}`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, "Function", {
      entry: path.join(PROJECT_ROOT, "lambdas", props.entry),
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      // No --enable-source-maps: with it Node reads and parses the bundle's map at cold start
      // (`npm run bench -- --only footprint` prints what that adds to deliver's) and maps every
      // stack it formats. The map still ships beside the bundle to read a trace with.
      environment: { ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, "package-lock.json"),
      bundling: {
        format: OutputFormat.ESM,
        target: "node24",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // esbuild's per-bundle size report is noise at every synth; warnings and errors still show.
        logLevel: LogLevel.WARNING,
        externalModules: [],
        mainFields: ["module", "main"],
        // Some bundled dependencies are CommonJS and call require(); ESM has none by default.
        banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
        esbuildArgs: { "--alias": BUNDLE_ALIASES },
        ...(props.files ? { commandHooks: copyBeside(props.files.from, props.files.as) } : {}),
      },
    });
  }
}
