/**
 * Run by the bench in a process of its own (`node --import tsx bench/idle-product.ts <idle s>`):
 * the product on the local runtime, in memory, as `npm start --in-memory` runs it. Prints one
 * JSON line: the RSS after start, after API calls have started some execution environments,
 * and once those environments were retired after `<idle s>` unused.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { startEphemeralProduct } from "../lib/dev/ephemeral-product.ts";

const idleSeconds = Number(process.argv[2] ?? 5);
const settle = () => sleep(1000);

const env = await startEphemeralProduct({ environmentIdleSeconds: idleSeconds });
try {
  await settle();
  const { rss: afterStart, heapTotal: mainHeapAfterStart } = process.memoryUsage();
  const tenant = await env.newTenant("idle");
  for (const route of ["/webhooks/dlq", "/portal/api/ext/webhook", "/webhooks/logs"]) {
    for (let i = 0; i < 10; i++) {
      const response = await tenant.call("GET", route);
      if (response.status !== 200) throw new Error(`GET ${route}: HTTP ${response.status}`);
      await response.arrayBuffer();
    }
  }
  const environments = (await env.product.runtime.environmentMemoryUsage()).length;
  const afterCalls = process.memoryUsage.rss();
  const deadline = Date.now() + (idleSeconds + 30) * 1000;
  while ((await env.product.runtime.environmentMemoryUsage()).length > 0 && Date.now() < deadline) await sleep(250);
  // V8 pools a retired environment's heap pages for the next one and returns them to the
  // system once the process has been quiet a few seconds.
  await sleep(10_000);
  const { rss: afterIdle, heapTotal: mainHeapAfterIdle } = process.memoryUsage();
  const retired = (await env.product.runtime.environmentMemoryUsage()).length === 0;
  console.log(JSON.stringify({ afterStart, mainHeapAfterStart, environments, afterCalls, afterIdle, mainHeapAfterIdle, retired }));
} finally {
  await env.stop();
}
process.exit(0);
