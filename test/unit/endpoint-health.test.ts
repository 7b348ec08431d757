import { describe, expect, it } from "vitest";
import {
  endpointSituacao,
  endpointStatus,
  healthAfter,
  reenabled,
  type EndpointHealth,
  type EndpointObservation,
} from "../../lambdas/domain/endpoint-health.ts";

const URL = "https://erp.example.com/hooks";
const policy = { disableAfterSeconds: 3600 };
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 27, 12, minutes)).toISOString();
const success = (minutes: number): EndpointObservation => ({ kind: "success", at: at(minutes) });
const failure = (minutes: number, statusCode?: number): EndpointObservation => ({ kind: "failure", at: at(minutes), reason: `HTTP ${statusCode ?? 503}`, statusCode: statusCode ?? 503 });

describe("endpoint health", () => {
  it("writes nothing for successes of an endpoint that never failed", () => {
    const after = healthAfter(undefined, URL, [success(0), success(1)], policy);
    expect(after.health).toBeUndefined();
    expect(after.notices).toEqual([]);
    const healthy: EndpointHealth = { url: URL, lastSuccessAt: at(0), at: at(0) };
    expect(healthAfter(healthy, URL, [success(5)], policy).health).toBe(healthy);
  });

  it("starts a streak at the first failure and leaves it alone until the period has passed", () => {
    const failing = healthAfter(undefined, URL, [failure(0)], policy).health;
    expect(failing).toMatchObject({ failingSince: at(0), failure: "HTTP 503" });
    expect(endpointStatus(failing)).toMatchObject({ state: "failing", since: at(0) });
    // More failures inside the period change nothing: no write.
    expect(healthAfter(failing, URL, [failure(10), failure(59)], policy).health).toBe(failing);
    const disabled = healthAfter(failing, URL, [failure(60)], policy);
    expect(disabled.health).toMatchObject({ disabledAt: at(60), failingSince: at(0) });
    expect(disabled.notices).toEqual([{ kind: "disabled", url: URL, reason: `failed continuously since ${at(0)}`, since: at(60), failingSince: at(0) }]);
    expect(endpointSituacao(disabled.health)).toMatchObject({ codigo: "desativada", desde: at(60) });
  });

  it("ends the streak at a success, so only continuous failure disables", () => {
    const failing = healthAfter(undefined, URL, [failure(0)], policy).health;
    const recovered = healthAfter(failing, URL, [success(30), failure(61)], policy);
    expect(recovered.health).toMatchObject({ lastSuccessAt: at(30), failingSince: at(61) });
    expect(recovered.health?.disabledAt).toBeUndefined();
    expect(recovered.notices).toEqual([]);
  });

  it("disables at once on 410 Gone, and a disabled endpoint stays so whatever answers still arrive", () => {
    const gone = healthAfter(undefined, URL, [failure(0, 410), success(1)], policy);
    expect(gone.health).toMatchObject({ disabledAt: at(0), disabledReason: "the endpoint answered 410 Gone" });
    expect(gone.notices.map((n) => n.kind)).toEqual(["disabled"]);
    expect(healthAfter(gone.health, URL, [success(2), failure(3, 410)], policy).health).toBe(gone.health);
  });

  it("re-enables afresh and reports the first success after it as a recovery", () => {
    const disabled = healthAfter(undefined, URL, [failure(0, 410)], policy).health;
    const now = new Date(at(5));
    const fresh = reenabled(disabled, URL, now);
    expect(fresh).toEqual({ url: URL, reenabledAt: at(5), at: at(5) });
    expect(endpointStatus(fresh).state).toBe("enabled");
    // A failure after re-enabling starts a new streak and keeps waiting for the recovery.
    const failingAgain = healthAfter(fresh, URL, [failure(6)], policy);
    expect(failingAgain.health).toMatchObject({ failingSince: at(6), reenabledAt: at(5) });
    const back = healthAfter(failingAgain.health, URL, [success(7)], policy);
    expect(back.notices).toEqual([{ kind: "recovered", url: URL, at: at(7), reenabledAt: at(5) }]);
    expect(back.health).toEqual({ url: URL, lastSuccessAt: at(7), at: at(7) });
    // Re-enabling a healthy endpoint changes nothing.
    expect(reenabled(back.health, URL, now)).toBe(back.health);
    expect(reenabled(undefined, URL, now)).toBeUndefined();
  });
});
