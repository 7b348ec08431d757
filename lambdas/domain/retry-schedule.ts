/**
 * The retry schedule: seconds to wait before each delivery attempt, the first being the
 * initial attempt. Its length is the attempt budget, which the stack turns into the
 * deliveries queue's maxReceiveCount, so a delivery reaches the dead-letter queue right
 * after its last attempt.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/** SQS caps a message's visibility timeout at 12 hours. */
export const MAX_RETRY_DELAY_SECONDS = 43_200;
/** SQS redrive accepts 1..1000 receives. */
export const MAX_ATTEMPTS = 1000;

/** Parses `0,5,300` (from a CLI flag or a CDK context value) into a validated schedule. */
export function parseRetrySchedule(text: string): readonly number[] {
  const parts = text.split(",").map((part) => part.trim());
  const schedule = parts.map((part) => {
    if (!/^\d+$/.test(part)) {
      throw new RangeError(`retry schedule "${text}": "${part}" is not a whole number of seconds`);
    }
    return Number(part);
  });
  validateRetrySchedule(schedule);
  return schedule;
}

export function validateRetrySchedule(schedule: readonly number[]): void {
  if (schedule.length === 0 || schedule.length > MAX_ATTEMPTS) {
    throw new RangeError(`retry schedule must have 1 to ${MAX_ATTEMPTS} attempts, got ${schedule.length}`);
  }
  for (const delay of schedule) {
    if (!Number.isInteger(delay) || delay < 0 || delay > MAX_RETRY_DELAY_SECONDS) {
      throw new RangeError(`retry delay ${delay} s is outside 0..${MAX_RETRY_DELAY_SECONDS} s`);
    }
  }
}

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
