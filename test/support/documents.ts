import { modulus11 } from "../../lambdas/domain/cnpj.ts";

/** A chave de acesso: its first 43 characters and their modulus-11 check digit. */
export const accessKey = (body: string) => `${body}${modulus11(body)}`;

/** Keys computed with the published rule (lambdas/domain/document-key.ts): an SP NF-e, one of an alphanumeric issuer, an MG CT-e. */
export const NFE = "35240112345678000195550010000001231000000011";
export const NFE_ALPHANUMERIC = "35260712ABC34501DE35550010000001241000000022";
export const CTE = "31260712345678000195570010000045671000000036";
