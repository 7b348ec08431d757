import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  formatRetrySchedule,
  parseRetrySchedule,
} from "../../lambdas/domain/retry-schedule.ts";

describe("retry schedule", () => {
  it("defaults to immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(() => parseRetrySchedule(DEFAULT_RETRY_SCHEDULE_SECONDS)).not.toThrow();
  });

  it("parses a compressed schedule", () => {
    expect(parseRetrySchedule("0, 1,2")).toEqual([0, 1, 2]);
  });

  it("reads back what it writes for the functions' environment", () => {
    expect(parseRetrySchedule(formatRetrySchedule(DEFAULT_RETRY_SCHEDULE_SECONDS))).toEqual(DEFAULT_RETRY_SCHEDULE_SECONDS);
  });

  it.each([
    ["", /not a whole number/],
    ["0,-1", /not a whole number/],
    ["0,1.5", /not a whole number/],
    ["0,43201", /outside 0\.\.43200/],
    [[], /1 to 495 attempts/],
    [Array.from({ length: 496 }, () => 1), /1 to 495 attempts/],
    [[0, 2.5], /outside 0\.\.43200/],
  ])("refuses %j", (text, message) => {
    expect(() => parseRetrySchedule(text)).toThrow(message);
  });
});
