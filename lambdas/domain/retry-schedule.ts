/** SQS caps a message's visibility timeout at 12 hours. */
export const MAX_RETRY_DELAY_SECONDS = 43_200;
/** SQS redrive accepts up to 1000 receives, and the deliveries queue's is 2 × attempts + 10. */
export const MAX_ATTEMPTS = 495;

/** A validated schedule; only `parseRetrySchedule` makes one. */
export type RetrySchedule = readonly number[] & { readonly __validated: "RetrySchedule" };

/**
 * The one parser of a schedule, whatever brought it: `0,5,300` from a CLI flag, CDK context
 * or the functions' environment, or a list from cdk.json or code.
 */
export function parseRetrySchedule(value: string | readonly number[]): RetrySchedule {
  const schedule =
    typeof value !== "string"
      ? value
      : value.split(",").map((part) => {
          const trimmed = part.trim();
          if (!/^\d+$/.test(trimmed)) {
            throw new RangeError(`retry schedule "${value}": "${trimmed}" is not a whole number of seconds`);
          }
          return Number(trimmed);
        });
  if (schedule.length === 0 || schedule.length > MAX_ATTEMPTS) {
    throw new RangeError(`retry schedule must have 1 to ${MAX_ATTEMPTS} attempts, got ${schedule.length}`);
  }
  for (const delay of schedule) {
    if (!Number.isInteger(delay) || delay < 0 || delay > MAX_RETRY_DELAY_SECONDS) {
      throw new RangeError(`retry delay ${delay} s is outside 0..${MAX_RETRY_DELAY_SECONDS} s`);
    }
  }
  return [...schedule] as readonly number[] as RetrySchedule;
}

/** How a schedule travels in the functions' environment (read back by `parseRetrySchedule`). */
export function formatRetrySchedule(schedule: RetrySchedule): string {
  return schedule.join(",");
}

/**
 * The retry schedule: seconds to wait before each delivery attempt, the first being the
 * initial attempt. Its length is the attempt budget; the deliver function counts attempts
 * and puts a delivery on the dead-letter queue after its last one.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = parseRetrySchedule([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);

/** Longest wait a receiver's Retry-After may impose on one retry. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * Seconds to wait before the attempt after `attempt` (1-based), or undefined when that was
 * the last one. A receiver's Retry-After can lengthen the wait (up to an hour), never
 * shorten it; up to 20 % jitter spreads retries of many deliveries that failed together.
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attempt: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= schedule.length) return undefined;
  const planned = schedule[attempt] ?? 0;
  const wanted = Math.max(planned, Math.min(retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS));
  const jittered = wanted + Math.floor(wanted * 0.2 * random());
  return Math.min(jittered, MAX_RETRY_DELAY_SECONDS);
}
