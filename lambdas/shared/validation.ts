/**
 * The validator of the queue workers' inputs: zod's tree-shakable `zod/mini` (a few kB in a
 * bundle, where `zod` is about 450 kB and some 25 ms of a cold start), with the English
 * messages `zod` itself loads. The HTTP contract (lambdas/contract) keeps `zod`: its schemas
 * make the OpenAPI document. Both share zod's core, so a schema written with either checks and
 * words its issues the same.
 */
import { en } from "zod/locales";
import { config } from "zod/mini";

config(en());

// Import it as a namespace (`import * as z`): bundles then keep only the members used.
export * from "zod/mini";
