import { modulus11 } from "./cnpj.ts";

/**
 * The chave de acesso of an NF-e, NFC-e, CT-e, CT-e OS or MDF-e: 44 characters,
 * cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) número(9) tpEmis(1) código(8) DV(1).
 *
 * The DV is the modulus-11 digit of the first 43 (weights 2 to 9 from the right; 0 when
 * 11 − remainder is 10 or 11; MOC, "Visão Geral", item 5.4). Since NT 2025.001 (CNPJ
 * alfanumérico, production from July 2026) the issuer's positions may hold an alphanumeric
 * CNPJ: letters A–Z in its 12 base characters (positions 7–18), its check digits still
 * numeric; in the DV's sum each character counts as its ASCII code minus 48, as in the CNPJ's
 * own check digits, so numeric keys keep their DV. What this follows:
 * - https://blog.tecnospeed.com.br/novo-cnpj-nota-tecnica/ (NT 2025.001: the key keeps 44 positions, the CNPJ's become alphanumeric)
 * - https://github.com/robsonkades/accesskey (a key generator and validator after NT 2025.001: its DV sums
 *   each character's code minus '0', letters of the CNPJ included)
 *
 * The embedded CNPJ's own check digits are not verified: an issuer with a CPF (produtor rural)
 * writes its CPF there, zero-padded. Nor is it compared with the event's `cnpj`, which names the
 * company the event is for and may be another (the recipient of a received DF-e).
 */
export const DOCUMENT_KEY_LENGTH = 44;

/** IBGE codes of the 27 federative units, the key's cUF. */
const UF_CODES = new Set([11, 12, 13, 14, 15, 16, 17, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32, 33, 35, 41, 42, 43, 50, 51, 52, 53]);

/** The document models a chave de acesso of this layout identifies. */
export const DOCUMENT_MODELS = { 55: "NF-e", 65: "NFC-e", 57: "CT-e", 67: "CT-e OS", 58: "MDF-e" } as const;
export type DocumentModel = keyof typeof DOCUMENT_MODELS;

/** Digits everywhere but in the issuer's 12 base characters, which may be letters too. */
const FORM = /^[0-9]{6}[0-9A-Z]{12}[0-9]{26}$/;

export interface DocumentKey {
  readonly key: string;
  readonly uf: number;
  readonly model: DocumentModel;
  /** The issuer's CNPJ (or zero-padded CPF) as the key holds it. */
  readonly issuer: string;
}

export type DocumentKeyParse = { readonly ok: true; readonly documentKey: DocumentKey } | { readonly ok: false; readonly reason: string };

const isModel = (model: number): model is DocumentModel => model in DOCUMENT_MODELS;

/**
 * Reads a chave de acesso (letters in either case, normalized to upper case), or says what is
 * wrong with it: the form first, then the check digit (a mistyped character shows there),
 * then UF, month and model. A value not in the key's form is never echoed.
 */
export function parseDocumentKey(input: string): DocumentKeyParse {
  if (input.length !== DOCUMENT_KEY_LENGTH) return { ok: false, reason: `has ${input.length} characters; a chave de acesso has ${DOCUMENT_KEY_LENGTH}` };
  const key = input.toUpperCase();
  if (!FORM.test(key)) {
    const position = [...key].findIndex((c, i) => !(/[0-9]/.test(c) || (i >= 6 && i < 18 && /[A-Z]/.test(c)))) + 1;
    return { ok: false, reason: `has a character at position ${position} that is not allowed there: digits only, letters A-Z only in the issuer's CNPJ (positions 7-18)` };
  }
  const fail = (problem: string): DocumentKeyParse => ({ ok: false, reason: `${key}: ${problem}` });
  const expected = modulus11(key.slice(0, 43));
  if (Number(key[43]) !== expected) return fail(`check digit is ${key[43]}, expected ${expected}`);
  const uf = Number(key.slice(0, 2));
  if (!UF_CODES.has(uf)) return fail(`UF code ${key.slice(0, 2)} is not the IBGE code of a Brazilian state`);
  const month = Number(key.slice(4, 6));
  if (month < 1 || month > 12) return fail(`month ${key.slice(4, 6)} (AAMM ${key.slice(2, 6)}) is not a month`);
  const model = Number(key.slice(20, 22));
  if (!isModel(model)) return fail(`model ${key.slice(20, 22)} is none of ${modelList(Object.keys(DOCUMENT_MODELS).map(Number) as DocumentModel[])}`);
  return { ok: true, documentKey: { key, uf, model, issuer: key.slice(6, 20) } };
}

/** The models an event type implies, by its family (invoice.*, cte.*, mdfe.*); undefined: any. */
export function modelsFor(type: string): readonly DocumentModel[] | undefined {
  const family = type.slice(0, type.indexOf("."));
  return family === "invoice" ? [55, 65] : family === "cte" ? [57, 67] : family === "mdfe" ? [58] : undefined;
}

/** Why a valid key does not fit the event type, if it does not. */
export function modelMismatch(documentKey: DocumentKey, type: string): string | undefined {
  const models = modelsFor(type);
  if (!models || models.includes(documentKey.model)) return undefined;
  return `${documentKey.key}: model ${documentKey.model} (${DOCUMENT_MODELS[documentKey.model]}) does not fit ${type}, which is about ${modelList(models)}`;
}

function modelList(models: readonly DocumentModel[]): string {
  const named = models.map((model) => `${model} (${DOCUMENT_MODELS[model]})`);
  return named.length === 1 ? named[0]! : `${named.slice(0, -1).join(", ")} or ${named.at(-1)}`;
}
