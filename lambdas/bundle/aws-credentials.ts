/**
 * What the function bundles get in place of `@aws-sdk/credential-provider-node` (an esbuild
 * alias, lib/constructs/webhook-function.ts): the SDK clients' default credential chain cut down
 * to its first link, the environment. Lambda always hands a function its role's credentials there
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and so does the local runtime;
 * the chain's other links (SSO, profiles, web identity, process, container and instance metadata)
 * never answer in a function, yet brought ~135 kB and a dozen Node modules to every cold start.
 * Code run outside the bundles (tests, bin/) keeps the SDK's full chain.
 */
import { fromEnv, type FromEnvInit } from "@aws-sdk/credential-provider-env";

export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
