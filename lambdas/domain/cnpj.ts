/**
 * CNPJ numbers, numeric and alphanumeric.
 *
 * From July 2026 the Receita Federal issues alphanumeric CNPJs (IN RFB 2.229/2024): 14
 * characters, the first 12 digits or upper-case letters A–Z (8 of root, 4 of branch), the last
 * 2 numeric check digits. The check digits keep the modulus-11 rule, with each character valued
 * at its ASCII code minus 48 (so '0'–'9' keep their values and A = 17 … Z = 42): numeric CNPJs
 * keep the check digits they have. The fiscal documents follow (NT 2025.001, ENCAT/RFB).
 * What this follows:
 * - https://github.com/FRACerqueira/CnpjAlfaNumerico (quoting Nota Técnica COCAD/SUARA/RFB nº 49/2024)
 * - https://www.tributos.io/blog/legislacao-e-normas/cnpj-alfanumerico-2026-impacto-em-dfe-nfe-e-sistemas-fiscais
 * - https://inventti.com.br/nt-2025-001-cnpj-alfanumerico-revoluciona-documentos-fiscais-eletronicos
 *   (the schemas' pattern `[A-Z0-9]{12}[0-9]{2}`)
 */

/**
 * The modulus-11 check digit of `body`, weights 2 to 9 from the right, cycling; each character
 * counts as its ASCII code minus 48. A remainder of 0 or 1 gives 0, any other r gives 11 − r.
 * The CNPJ's two check digits and the chave de acesso's one are all this digit.
 */
export function modulus11(body: string): number {
  let sum = 0;
  for (let i = body.length - 1, weight = 2; i >= 0; i--, weight = weight === 9 ? 2 : weight + 1) sum += (body.charCodeAt(i) - 48) * weight;
  const remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}

/** The two check digits of a CNPJ's first 12 characters. */
export function cnpjCheckDigits(base: string): string {
  const first = modulus11(base);
  return `${first}${modulus11(`${base}${first}`)}`;
}

export const CNPJ_FORM = "14 characters: 12 digits or letters A-Z, then 2 check digits, with or without the mask 12.345.678/0001-95";
export const CNPJ_ROOT_FORM = "a CNPJ root of 8 digits or letters A-Z (12.345.678)";

const BARE = /^[0-9A-Z]{12}[0-9]{2}$/;
const MASKED = /^([0-9A-Z]{2})\.([0-9A-Z]{3})\.([0-9A-Z]{3})\/([0-9A-Z]{4})-([0-9]{2})$/;
const ROOT = /^[0-9A-Z]{8}$/;
const MASKED_ROOT = /^([0-9A-Z]{2})\.([0-9A-Z]{3})\.([0-9A-Z]{3})$/;

export type CnpjParse = { readonly ok: true; readonly cnpj: string } | { readonly ok: false; readonly reason: string };

/** The characters of a CNPJ (or of its root, with `roots`), upper case and unmasked; undefined when it has no such form. */
function unmasked(input: string, roots: boolean): string | undefined {
  const upper = input.toUpperCase();
  if (BARE.test(upper)) return upper;
  const masked = MASKED.exec(upper);
  if (masked) return masked.slice(1).join("");
  if (!roots) return undefined;
  if (ROOT.test(upper)) return upper;
  return MASKED_ROOT.exec(upper)?.slice(1).join("");
}

/** A full CNPJ whose characters are already in form: says what is wrong with its check digits, if anything. */
function checkDigitsProblem(cnpj: string): string | undefined {
  // All the same digit passes modulus 11 (00000000000000, 11111111111111, …) but is no CNPJ.
  if (/^([0-9])\1{13}$/.test(cnpj)) return `${cnpj} is not a CNPJ (every digit the same)`;
  const expected = cnpjCheckDigits(cnpj.slice(0, 12));
  return cnpj.endsWith(expected) ? undefined : `${cnpj} has invalid check digits (expected ${expected})`;
}

/**
 * A CNPJ as producers and tenants write it: 14 characters or the standard mask, letters in
 * either case. Normalized to 14 upper-case characters; refused with the reason when it is not
 * one (never echoing what is not in a CNPJ's form).
 */
export function parseCnpj(input: string): CnpjParse {
  const cnpj = unmasked(input, false);
  if (cnpj === undefined) return { ok: false, reason: `must be a CNPJ of ${CNPJ_FORM}` };
  const problem = checkDigitsProblem(cnpj);
  return problem ? { ok: false, reason: problem } : { ok: true, cnpj };
}

/**
 * One entry of a CNPJ scope: a full CNPJ (check digits verified) or the 8-character root that
 * covers every branch of a company. Normalized like parseCnpj. A root has no check digits of
 * its own, and 00000000 is a real one (Banco do Brasil's).
 */
export function parseCnpjScopeEntry(input: string): CnpjParse {
  const entry = unmasked(input, true);
  if (entry === undefined) return { ok: false, reason: `must be a CNPJ of ${CNPJ_FORM}, or ${CNPJ_ROOT_FORM}` };
  const problem = entry.length === 14 ? checkDigitsProblem(entry) : undefined;
  return problem ? { ok: false, reason: problem } : { ok: true, cnpj: entry };
}

/** Most entries a scope may list. */
export const MAX_CNPJ_SCOPE = 100;

/** Whether an issuer's (normalized) CNPJ is in a scope: equal to a full entry or under a root entry. */
export function inCnpjScope(cnpj: string, scope: readonly string[]): boolean {
  return scope.some((entry) => (entry.length === 14 ? cnpj === entry : cnpj.startsWith(entry)));
}
