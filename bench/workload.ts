import type { EventType } from "../lambdas/domain/catalogue.ts";
import { DEFAULT_CONFIG_CACHE_SECONDS } from "../lambdas/delivery/targets.ts";
import { startEphemeralProduct, type EphemeralProduct } from "../lib/dev/ephemeral-product.ts";
import type { ReceiverFactory } from "../lib/dev/https-receiver.ts";

/** The event type every bench event has, and its subscriptions listen to. */
export const BENCH_EVENT_TYPE: EventType = "invoice.authorized";

/** A plausible NF-e authorization payload (~300 bytes of data), distinct per index. */
export function fiscalData(index: number): Record<string, unknown> {
  const serial = String(index).padStart(9, "0");
  return {
    chave: `352611${"12345678000195"}55001${serial}1${serial.slice(0, 8)}`,
    numero: index,
    serie: 1,
    emitente: { cnpj: "12345678000195", nome: "Comercio de Exemplo Ltda" },
    destinatario: { cnpj: "98765432000110", uf: "SP" },
    valorTotal: 1234.56 + index,
    protocolo: `1352600${serial}`,
    ambiente: "homologacao",
  };
}

/** Runs `count` tasks with at most `concurrency` in flight; stops starting new ones after `deadline` (performance.now()). */
export async function runBounded(
  count: number,
  concurrency: number,
  deadline: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const lane = async () => {
    for (;;) {
      const index = next++;
      if (index >= count || performance.now() > deadline) return;
      await task(index);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return done;
}

/**
 * The in-memory product a bench scenario runs on: the scenario's retry schedule, trusting its
 * receivers' CA, each runtime error the product reports added to `errors` for the report.
 */
export function startBenchProduct(receivers: ReceiverFactory, retrySchedule: readonly number[], errors: string[]): Promise<EphemeralProduct> {
  return startEphemeralProduct({
    retrySchedule,
    // The deployed stack's warm caches, so the bench counts the reads AWS would see.
    configCacheSeconds: DEFAULT_CONFIG_CACHE_SECONDS,
    extraCaFile: receivers.caFile,
    onError: (source, error) => errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
}
