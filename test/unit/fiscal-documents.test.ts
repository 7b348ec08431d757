import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requestSchemas } from "../../lambdas/contract/schemas.ts";
import { cnpjCheckDigits, inCnpjScope, modulus11, parseCnpj, parseCnpjScopeEntry } from "../../lambdas/domain/cnpj.ts";
import { parseDocumentKey } from "../../lambdas/domain/document-key.ts";
import { deliveryTargets, parseFiscalEvent } from "../../lambdas/domain/fiscal-event.ts";
import { webhookEnvelope } from "../../lambdas/domain/webhook-message.ts";
import { validate } from "../../lambdas/shared/body.ts";
import type { HttpProblem } from "../../lambdas/shared/problems.ts";
import { CTE, NFE, NFE_ALPHANUMERIC } from "../support/documents.ts";

const TENANT = "ten_0123456789abcdef0123";
const at = new Date("2026-11-24T12:00:00Z");

/** Published examples: a CNPJ every validator shows, the RFB's alphanumeric example, Banco do Brasil's headquarters. */
const NUMERIC = "11222333000181";
const ALPHANUMERIC = "12ABC34501DE35";
const BANCO_DO_BRASIL = "00000000000191";
/** Chaves de acesso published with guides to the DV (NFC-e of AM, NF-e of CE and RS). */
const PUBLISHED_KEYS = [
  "13181017921427000125650010000000309887251170",
  "23140502179938000146550010000658711000658716",
  "43171207364617000135550000000120141000120146",
];
/** Keys built here for each model: SP NF-e, SP NF-e of an alphanumeric issuer, MG CT-e, PR MDF-e, SP NFC-e, SP CT-e OS. */
const MDFE = "41260712345678000195580010000000891000000046";
const NFCE = "35260712345678000195650010000001251000000057";
const CTE_OS = "35260712345678000195670010000001251000000054";

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const alnum = (length: number) => fc.string({ unit: fc.constantFrom(...ALNUM), minLength: length, maxLength: length });
const digits = (length: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: length, maxLength: length });

describe("CNPJ", () => {
  it("accepts numeric and alphanumeric CNPJs with valid check digits, masked or not, in either case", () => {
    for (const cnpj of [NUMERIC, ALPHANUMERIC, BANCO_DO_BRASIL, "12345678000195", "A1B2C3D4000193"]) expect(parseCnpj(cnpj)).toEqual({ ok: true, cnpj });
    expect(parseCnpj("11.222.333/0001-81")).toEqual({ ok: true, cnpj: NUMERIC });
    expect(parseCnpj("12.abc.345/01de-35")).toEqual({ ok: true, cnpj: ALPHANUMERIC });
    expect(parseCnpj("12abc34501de35")).toEqual({ ok: true, cnpj: ALPHANUMERIC });
  });

  it("values letters at their ASCII code minus 48 (the RFB's example), and numeric CNPJs keep the classic check digits", () => {
    expect(cnpjCheckDigits("12ABC34501DE")).toBe("35");
    // The classic rule: weights 5,4,3,2,9,8,7,6,5,4,3,2 then 6,5,…,2 over the digits' values.
    const classic = (body: string, weights: number[]) => {
      const r = [...body].reduce((sum, c, i) => sum + Number(c) * weights[i]!, 0) % 11;
      return r < 2 ? 0 : 11 - r;
    };
    fc.assert(
      fc.property(digits(12), (base) => {
        const first = classic(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
        expect(cnpjCheckDigits(base)).toBe(`${first}${classic(base + first, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])}`);
      }),
    );
  });

  it("detects every wrong digit, and every wrong letter the published rule can see", () => {
    fc.assert(
      fc.property(alnum(12), fc.nat(13), fc.nat(), (base, position, pick) => {
        const cnpj = base + cnpjCheckDigits(base);
        const pool = position < 12 ? ALNUM : "0123456789";
        const others = [...pool].filter((c) => c !== cnpj[position]);
        const replacement = others[pick % others.length]!;
        const wrong = cnpj.slice(0, position) + replacement + cnpj.slice(position + 1);
        // The published rule's blind spots: characters whose values differ by a multiple of 11
        // (4 and J, 7 and B), and a change that moves a remainder between 0 and 1 (both give a
        // check digit of 0). Exactly those pass; anything else is refused.
        const blind = position < 12 && cnpjCheckDigits(wrong.slice(0, 12)) === cnpj.slice(12) && !/^(\d)\1{13}$/.test(wrong);
        if (blind) expect(parseCnpj(wrong).ok).toBe(true);
        else expect(parseCnpj(wrong)).toMatchObject({ ok: false, reason: expect.stringMatching(/has invalid check digits \(expected \d\d\)|every digit the same/) });
        // A check digit of 0 is the only way a remainder change hides.
        if (blind && (replacement.charCodeAt(0) - cnpj.charCodeAt(position)) % 11 !== 0) expect(cnpj.slice(12)).toMatch(/0/);
      }),
    );
  });

  it.each([
    ["11222333000182", "11222333000182 has invalid check digits (expected 81)"],
    ["00000000000000", "00000000000000 is not a CNPJ (every digit the same)"],
    ["11111111111111", "11111111111111 is not a CNPJ (every digit the same)"],
    ["1122233300018", /must be a CNPJ of 14 characters/],
    ["12ABC34501DEAB", /must be a CNPJ of 14 characters/],
    ["11.222.333/000181", /must be a CNPJ of 14 characters/],
    ["11222333/0001-81", /must be a CNPJ of 14 characters/],
    ["12ÁBC34501DE35", /must be a CNPJ of 14 characters/],
    ["", /must be a CNPJ of 14 characters/],
  ])("refuses %j", (input, reason) => {
    const parse = parseCnpj(input);
    expect(parse.ok).toBe(false);
    expect(parse.ok ? "" : parse.reason).toMatch(reason);
  });

  it("takes roots in a scope, masked or not, and matches branches under them", () => {
    expect(parseCnpjScopeEntry("12.abc.345")).toEqual({ ok: true, cnpj: "12ABC345" });
    expect(parseCnpjScopeEntry("00000000")).toEqual({ ok: true, cnpj: "00000000" });
    expect(parseCnpjScopeEntry("11.222.333/0001-81")).toEqual({ ok: true, cnpj: NUMERIC });
    expect(parseCnpjScopeEntry("11222333000182")).toMatchObject({ ok: false, reason: /invalid check digits/ });
    expect(parseCnpjScopeEntry("1122233")).toMatchObject({ ok: false, reason: /or a CNPJ root of 8/ });
    expect(inCnpjScope(ALPHANUMERIC, ["12ABC345"])).toBe(true);
    expect(inCnpjScope(NUMERIC, ["11222333"])).toBe(true);
    expect(inCnpjScope(NUMERIC, [NUMERIC])).toBe(true);
    expect(inCnpjScope("11222333000262", [NUMERIC])).toBe(false);
    expect(inCnpjScope(NUMERIC, ["11222334", "12345678000195"])).toBe(false);
  });
});

describe("chave de acesso", () => {
  it("accepts published keys and keys of every model, numeric or with an alphanumeric issuer", () => {
    for (const key of [...PUBLISHED_KEYS, NFE, NFE_ALPHANUMERIC, CTE, MDFE, NFCE, CTE_OS]) expect(parseDocumentKey(key)).toMatchObject({ ok: true, documentKey: { key } });
    expect(parseDocumentKey(NFE_ALPHANUMERIC.toLowerCase())).toMatchObject({ ok: true, documentKey: { key: NFE_ALPHANUMERIC, issuer: ALPHANUMERIC, model: 55, uf: 35 } });
  });

  it("detects every wrong digit, and every wrong letter of the issuer the published rule can see", () => {
    fc.assert(
      fc.property(fc.constantFrom(NFE, NFE_ALPHANUMERIC, CTE, MDFE), fc.nat(43), fc.nat(), (key, position, pick) => {
        const pool = position >= 6 && position < 18 ? ALNUM : "0123456789";
        const others = [...pool].filter((c) => c !== key[position]);
        const replacement = others[pick % others.length]!;
        const wrong = key.slice(0, position) + replacement + key.slice(position + 1);
        expect(parseDocumentKey(wrong).ok).toBe((replacement.charCodeAt(0) - key.charCodeAt(position)) % 11 === 0);
      }),
    );
    expect(parseDocumentKey(NFE.slice(0, 43) + "3")).toEqual({ ok: false, reason: `${NFE.slice(0, 43)}3: check digit is 3, expected 1` });
  });

  it("never takes a key whose DV is right but whose UF, month or model is not", () => {
    const withDv = (body: string) => body + modulus11(body);
    expect(parseDocumentKey(withDv(`99${NFE.slice(2, 43)}`))).toMatchObject({ ok: false, reason: /UF code 99 is not the IBGE code/ });
    expect(parseDocumentKey(withDv(`3524${"13"}${NFE.slice(6, 43)}`))).toMatchObject({ ok: false, reason: /month 13 \(AAMM 2413\) is not a month/ });
    expect(parseDocumentKey(withDv(`3524${"00"}${NFE.slice(6, 43)}`))).toMatchObject({ ok: false, reason: /month 00/ });
    expect(parseDocumentKey(withDv(`${NFE.slice(0, 20)}59${NFE.slice(22, 43)}`))).toMatchObject({
      ok: false,
      reason: /model 59 is none of 55 \(NF-e\), 65 \(NFC-e\), 57 \(CT-e\), 67 \(CT-e OS\) or 58 \(MDF-e\)/,
    });
  });

  it.each([
    [NFE.slice(0, 43), "has 43 characters; a chave de acesso has 44"],
    [`${NFE} `, "has 45 characters; a chave de acesso has 44"],
    [`A${NFE.slice(1)}`, /character at position 1 that is not allowed there/],
    [`${NFE.slice(0, 20)}A${NFE.slice(21)}`, /character at position 21 that is not allowed there/],
    [`${NFE.slice(0, 18)}A${NFE.slice(19)}`, /character at position 19/],
    [`${NFE.slice(0, 10)}\u0000${NFE.slice(11)}`, /character at position 11/],
  ])("refuses %j without echoing it", (input, reason) => {
    const parse = parseDocumentKey(input);
    expect(parse.ok).toBe(false);
    expect(parse.ok ? "" : parse.reason).toMatch(reason);
  });
});

describe("the event contract's documentKey, cnpj and sequence", () => {
  const event = (fields: Record<string, unknown>, type = "invoice.authorized") => JSON.stringify({ tenantId: TENANT, type, id: "e1", ...fields, data: { a: 1 } });

  it("are optional, normalized, and travel at the top of the body after createdAt", () => {
    const parse = parseFiscalEvent(event({ documentKey: NFE_ALPHANUMERIC.toLowerCase(), cnpj: "12.abc.345/01de-35", sequence: 2 }), "m", at);
    if (!parse.ok) throw new Error(parse.reason);
    expect(parse.event).toMatchObject({ documentKey: NFE_ALPHANUMERIC, cnpj: ALPHANUMERIC, sequence: 2 });
    expect(webhookEnvelope(parse.event)).toBe(
      `{"id":"e1","type":"invoice.authorized","createdAt":"${at.toISOString()}","documentKey":"${NFE_ALPHANUMERIC}","cnpj":"${ALPHANUMERIC}","sequence":2,"data":{"a":1}}`,
    );
    const plain = parseFiscalEvent(event({}), "m", at);
    if (!plain.ok) throw new Error(plain.reason);
    expect(Object.keys(plain.event)).not.toContain("cnpj");
    expect(webhookEnvelope(plain.event)).toBe(`{"id":"e1","type":"invoice.authorized","createdAt":"${at.toISOString()}","data":{"a":1}}`);
  });

  it("takes a key whose model fits the type, and any model for types that imply none", () => {
    for (const [type, key] of [
      ["invoice.canceled", NFCE],
      ["cte.cce", CTE_OS],
      ["cte.authorized", CTE],
      ["mdfe.closed", MDFE],
      ["dfe.received", CTE],
      ["boleto.paid", NFE],
    ] as const) {
      expect(parseFiscalEvent(event({ documentKey: key }, type), "m", at).ok).toBe(true);
    }
  });

  it.each([
    [{ documentKey: `${NFE.slice(0, 43)}3` }, "invoice.authorized", `breaks the event contract: documentKey ${NFE.slice(0, 43)}3: check digit is 3, expected 1`],
    [{ documentKey: CTE }, "invoice.authorized", `breaks the event contract: documentKey ${CTE}: model 57 (CT-e) does not fit invoice.authorized, which is about 55 (NF-e) or 65 (NFC-e)`],
    [{ documentKey: NFE }, "mdfe.authorized", /model 55 \(NF-e\) does not fit mdfe.authorized, which is about 58 \(MDF-e\)$/],
    [{ documentKey: NFE }, "cte.canceled", /which is about 57 \(CT-e\) or 67 \(CT-e OS\)$/],
    [{ documentKey: Number(NFE) }, "invoice.authorized", "breaks the event contract: documentKey must be a string"],
    [{ cnpj: "11222333000182" }, "invoice.authorized", "breaks the event contract: cnpj 11222333000182 has invalid check digits (expected 81)"],
    [{ cnpj: "12345" }, "invoice.authorized", /^breaks the event contract: cnpj must be a CNPJ of 14 characters/],
    [{ sequence: 0 }, "invoice.authorized", "breaks the event contract: sequence must be a positive integer (at most 2147483647)"],
    [{ sequence: 1.5 }, "invoice.authorized", /sequence must be a positive integer/],
    [{ sequence: 2 ** 31 }, "invoice.authorized", /sequence must be a positive integer/],
    [{ sequence: "1" }, "invoice.authorized", /sequence must be a positive integer/],
  ])("sets aside %j (%s) with the reason", (fields, type, reason) => {
    const parse = parseFiscalEvent(event(fields, type), "m", at);
    expect(parse.ok).toBe(false);
    expect(parse.ok ? "" : parse.reason).toMatch(reason);
  });
});

describe("CNPJ scoping of targets", () => {
  const full = { id: 1, endpoint: "https://full/", cnpjs: [NUMERIC] };
  const root = { id: 2, endpoint: "https://root/", cnpjs: ["12ABC345"] };
  const open = { id: 3, endpoint: "https://open/" };
  const urls = (cnpj: string | undefined, type: "invoice.authorized" | "webhook.endpoint.disabled" = "invoice.authorized") =>
    deliveryTargets(type, [full, root, open], undefined, undefined, cnpj).map((target) => target.url);

  it("sends a scoped target only its CNPJs' events, an unscoped one everything", () => {
    expect(urls(NUMERIC)).toEqual(["https://full/", "https://open/"]);
    expect(urls(ALPHANUMERIC)).toEqual(["https://root/", "https://open/"]);
    expect(urls("12ABC345000280")).toEqual(["https://root/", "https://open/"]);
    expect(urls("11222333000262")).toEqual(["https://open/"]);
    expect(urls(undefined)).toEqual(["https://open/"]);
  });

  it("never holds back operational events", () => {
    expect(urls(undefined, "webhook.endpoint.disabled")).toEqual(["https://full/", "https://root/", "https://open/"]);
  });

  it("sends a URL the subscription and the config share when either takes the event, with the credential and limit of those that do", () => {
    const basic = { type: "bearer", token: "t" };
    const subscription = { id: 7, endpoint: "https://a/", cnpjs: [NUMERIC], authentication: basic, maxPorSegundo: 3 };
    const config = { webhookUrl: "https://a/", events: ["invoice.authorized"], cnpjs: ["12ABC345"], maxPerSecond: 9 };
    expect(deliveryTargets("invoice.authorized", [subscription], config, undefined, NUMERIC)).toEqual([{ url: "https://a/", credential: { subscription: 7 }, maxPerSecond: 3 }]);
    expect(deliveryTargets("invoice.authorized", [subscription], config, undefined, ALPHANUMERIC)).toEqual([{ url: "https://a/", maxPerSecond: 9 }]);
    expect(deliveryTargets("invoice.authorized", [subscription], config, undefined, "11444777000161")).toEqual([]);
    expect(deliveryTargets("invoice.authorized", [subscription], { ...config, cnpjs: undefined }, undefined, undefined)).toEqual([{ url: "https://a/", maxPerSecond: 9 }]);
  });

  it("matches exactly like inCnpjScope for any CNPJ and scope", () => {
    fc.assert(
      fc.property(alnum(14), fc.array(fc.oneof(alnum(8), alnum(14)), { minLength: 1, maxLength: 5 }), (cnpj, scope) => {
        const taken = deliveryTargets("invoice.authorized", [{ id: 1, endpoint: "https://a/", cnpjs: scope }], undefined, undefined, cnpj).length === 1;
        expect(taken).toBe(scope.some((entry) => cnpj.startsWith(entry)));
      }),
    );
  });
});

describe("CNPJ scopes in requests", () => {
  const schemas = requestSchemas({ allowLoopback: false });
  const errorsOf = (body: unknown) => {
    try {
      validate(schemas.configPatch, body);
    } catch (error) {
      return (error as HttpProblem).problem["errors"];
    }
    throw new Error("accepted");
  };

  it("normalizes each entry and keeps null (remove) apart from absent (keep)", () => {
    expect(validate(schemas.configPatch, { cnpjs: ["11.222.333/0001-81", "12.abc.345", "12abc34501de35"] }).cnpjs).toEqual([NUMERIC, "12ABC345", ALPHANUMERIC]);
    expect(validate(schemas.configPatch, { cnpjs: null }).cnpjs).toBeNull();
    expect(validate(schemas.configPatch, { events: [] }).cnpjs).toBeUndefined();
  });

  it("names the field and the entry of each broken rule", () => {
    expect(errorsOf({ cnpjs: [NUMERIC, "12345", "11222333000182"] })).toEqual([
      expect.objectContaining({ field: "cnpjs/1", rule: "cnpj", message: expect.stringMatching(/must be a CNPJ of 14 characters/) }),
      expect.objectContaining({ field: "cnpjs/2", rule: "cnpj", message: "11222333000182 has invalid check digits (expected 81)" }),
    ]);
    expect(errorsOf({ cnpjs: [NUMERIC, "11.222.333/0001-81"] })).toEqual([expect.objectContaining({ field: "cnpjs/1", rule: "unique" })]);
    expect(errorsOf({ cnpjs: [] })).toEqual([expect.objectContaining({ field: "cnpjs", rule: "too_small" })]);
    expect(errorsOf({ cnpjs: Array.from({ length: 101 }, (_, i) => String(10_000_000 + i)) })).toEqual([expect.objectContaining({ field: "cnpjs", rule: "too_big" })]);
    expect(errorsOf({ cnpjs: NUMERIC })).toEqual([expect.objectContaining({ field: "cnpjs", rule: "invalid_type" })]);
    expect(errorsOf({ cnpjs: [14] })).toEqual([expect.objectContaining({ field: "cnpjs/0", rule: "invalid_type" })]);
  });
});
