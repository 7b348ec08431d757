import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundedText, MAX_JSON_DEPTH, parseUntrustedJson } from "../../lambdas/shared/json.ts";

describe("untrusted JSON", () => {
  it("parses what JSON.parse parses, within the nesting bound", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        const text = JSON.stringify(value);
        expect(parseUntrustedJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    );
  });

  it("refuses nesting past the bound by its limit, before anything walks it", () => {
    const at = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    expect(parseUntrustedJson(at(MAX_JSON_DEPTH)).ok).toBe(true);
    const tooDeep = { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH} levels`, tooDeep: true };
    expect(parseUntrustedJson(at(MAX_JSON_DEPTH + 1))).toEqual(tooDeep);
    expect(parseUntrustedJson(at(4500))).toEqual(tooDeep);
    expect(parseUntrustedJson('{"a":' .repeat(100) + "1" + "}".repeat(100)).ok).toBe(false);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const value = { text: `[{\\"${"[".repeat(200)}` };
    expect(parseUntrustedJson(JSON.stringify(value))).toEqual({ ok: true, value });
  });

  it("never quotes the input in its reason", () => {
    for (const text of ['{"cpf": 123.456.789-00}', "12345678909 nao e json", '{"nome": "Maria"', "[1,]"]) {
      const parse = parseUntrustedJson(text);
      expect(parse.ok).toBe(false);
      const reason = parse.ok ? "" : parse.reason;
      expect(reason).toMatch(/^not valid JSON/);
      expect(reason).not.toMatch(/123|Maria|nao|\[1/);
    }
  });
});

describe("bounded text", () => {
  it("is at most the bound, never splits a surrogate pair and is well formed", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), fc.integer({ min: 2, max: 50 }), (text, max) => {
        const bounded = boundedText(text, max);
        expect(bounded.length).toBeLessThanOrEqual(Math.max(max, text.length <= max ? text.length : 0));
        expect(bounded.isWellFormed()).toBe(true);
        // oxlint-disable-next-line no-control-regex -- the characters SQS refuses
        expect(bounded).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
      }),
    );
    expect(boundedText("ab😀cd", 4)).toBe("ab…");
    // Nothing SQS refuses in an attribute survives: controls (but tab, LF, CR), U+FFFE, U+FFFF.
    expect(boundedText("a\u0001b\tc\uFFFEd\uFFFF", 50)).toBe("a\uFFFDb\tc\uFFFDd\uFFFD");
    expect(boundedText("abc😀", 5)).toBe("abc😀");
  });
});
