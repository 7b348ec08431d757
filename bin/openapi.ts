import { writeFile } from "node:fs/promises";
import { openApiDocument } from "../lambdas/contract/openapi.ts";
import { OPENAPI_FILE } from "../lib/openapi-file.ts";

// `npm run openapi`: regenerates the checked-in OpenAPI document (a test fails when it is stale).
await writeFile(OPENAPI_FILE, JSON.stringify(openApiDocument(), null, 2) + "\n");
console.log(`wrote ${OPENAPI_FILE}`);
