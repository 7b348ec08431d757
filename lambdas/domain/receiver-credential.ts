/**
 * The credential a receiver asks every delivery to carry, for endpoints that authenticate
 * their callers instead of (or besides) verifying signatures: `Authorization: Basic …`,
 * `Authorization: Bearer …`, or one header of the tenant's choosing. A subscription and the
 * account config may each have one. Write-only: the API shows it masked, the queues carry
 * only a reference to it (the deliver function reads it at attempt time), and nothing logs it.
 */
export type ReceiverCredential =
  | { readonly type: "basic"; readonly username: string; readonly password: string }
  | { readonly type: "bearer"; readonly token: string }
  | { readonly type: "header"; readonly name: string; readonly value: string };

/** In a PUT or PATCH: a credential sets it, `null` removes it, absent (undefined) leaves it as it is. */
export type CredentialChange = ReceiverCredential | null | undefined;

/**
 * Where a delivery's credential is read from when it is attempted: the subscription it was
 * dispatched for, or the account config. Never the credential itself, which stays in the table.
 */
export type CredentialReference = { readonly subscription: number } | { readonly config: true };

/** What reads show in place of every secret part: not one character of it. */
export const CREDENTIAL_MASK = "****";
export const CREDENTIAL_VALUE_MAX = 1024;
export const HEADER_NAME_MAX = 100;

/**
 * Request fields that carry credentials: validation problems never echo what was received
 * under them (a mistyped `tipo` beside a real password must not send the password back).
 */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(["authentication", "autenticacao"]);

/**
 * Header names a credential may not use: hop-by-hop and connection-specific ones (a proxy
 * or the sender's own framing would drop or misread them), the ones that frame the body,
 * the signature and delivery headers this product sets (user-agent too), and `authorization`, which the
 * basic and bearer types build.
 */
const RESERVED_HEADERS = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "expect",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "x-webhook-signature",
  "x-webhook-event",
  "x-webhook-attempt",
  "user-agent",
  "authorization",
]);

/** RFC 9110 §5.6.2 token: what a field name is made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// C0 controls (CR, LF and NUL among them), DEL and the C1 controls.
// oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface CredentialRuleBreak {
  readonly rule: string;
  readonly message: string;
}

/** The parts of a credential, each with its own rules. */
export type CredentialPart = "username" | "password" | "token" | "headerName" | "headerValue";

/**
 * Why a part of a credential is refused, or undefined when it is fine. Values travel in a
 * header field: no control characters anywhere; a token and a header value are printable
 * ASCII (what every receiver reads the same), a Basic username and password may be any
 * Unicode (they travel base64-encoded UTF-8, RFC 7617), the username without ':'.
 */
export function credentialPartProblem(part: CredentialPart, value: string): CredentialRuleBreak | undefined {
  const max = part === "headerName" ? HEADER_NAME_MAX : CREDENTIAL_VALUE_MAX;
  if (value.length === 0 || value.length > max) return { rule: "length", message: `must have 1 to ${max} characters` };
  if (part === "headerName") {
    if (!TOKEN.test(value)) return { rule: "token", message: "must be an HTTP field name (RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)" };
    const name = value.toLowerCase();
    if (name === "authorization") return { rule: "reservedHeader", message: "is set by the basic and bearer types; use one of them" };
    if (RESERVED_HEADERS.has(name) || name.startsWith("proxy-")) {
      return { rule: "reservedHeader", message: "is a hop-by-hop, connection-specific or delivery header this product sets; choose another name" };
    }
    return undefined;
  }
  if (CONTROL.test(value)) return { rule: "controlCharacter", message: "must not contain control characters (CR, LF, NUL, …)" };
  if (part === "username" && value.includes(":")) return { rule: "colon", message: "must not contain ':' (it separates the username from the password)" };
  if (part === "token" && !/^[\x21-\x7e]+$/.test(value)) return { rule: "printableAscii", message: "must be printable ASCII without spaces" };
  if (part === "headerValue") {
    if (!/^[\x20-\x7e]+$/.test(value)) return { rule: "printableAscii", message: "must be printable ASCII" };
    if (value.trim() !== value) return { rule: "whitespace", message: "must not begin or end with a space (receivers strip them)" };
  }
  return undefined;
}

/** The header a credential adds to a delivery (none without one). */
export function credentialHeaders(credential: ReceiverCredential | undefined): Record<string, string> {
  switch (credential?.type) {
    case undefined:
      return {};
    case "basic":
      return { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString("base64")}` };
    case "bearer":
      return { authorization: `Bearer ${credential.token}` };
    case "header":
      return { [credential.name.toLowerCase()]: credential.value };
  }
}

/** The account API's view: the type, the Basic username or the header name, every secret masked. */
export function credentialView(credential: ReceiverCredential) {
  switch (credential.type) {
    case "basic":
      return { type: credential.type, username: credential.username, password: CREDENTIAL_MASK };
    case "bearer":
      return { type: credential.type, token: CREDENTIAL_MASK };
    case "header":
      return { type: credential.type, name: credential.name, value: CREDENTIAL_MASK };
  }
}

/** A credential as the Portal Único API writes it, in Portuguese. */
export type PortalCredential =
  | { readonly tipo: "basic"; readonly usuario: string; readonly senha: string }
  | { readonly tipo: "bearer"; readonly token: string }
  | { readonly tipo: "cabecalho"; readonly nome: string; readonly valor: string };

export function fromPortal(credential: PortalCredential): ReceiverCredential {
  switch (credential.tipo) {
    case "basic":
      return { type: "basic", username: credential.usuario, password: credential.senha };
    case "bearer":
      return { type: "bearer", token: credential.token };
    case "cabecalho":
      return { type: "header", name: credential.nome, value: credential.valor };
  }
}

/** The Portal API's view, masked like credentialView. */
export function portalCredentialView(credential: ReceiverCredential): PortalCredential {
  switch (credential.type) {
    case "basic":
      return { tipo: "basic", usuario: credential.username, senha: CREDENTIAL_MASK };
    case "bearer":
      return { tipo: "bearer", token: CREDENTIAL_MASK };
    case "header":
      return { tipo: "cabecalho", nome: credential.name, valor: CREDENTIAL_MASK };
  }
}

/** Whether a credential's secret is the mask reads show (a read sent back as it was). */
export function isMasked(credential: ReceiverCredential): boolean {
  const secret = credential.type === "basic" ? credential.password : credential.type === "bearer" ? credential.token : credential.value;
  return secret === CREDENTIAL_MASK;
}

/**
 * A masked credential stands for the stored one when it names the same type and username or
 * header name, so a subscription read with GET can be PUT back as it is: the change leaves the
 * credential unchanged. Anything else masked is refused (undefined), never stored as a secret.
 */
export function unmaskedChange(change: ReceiverCredential, current: ReceiverCredential | undefined): { readonly keep: true } | undefined {
  if (!current || current.type !== change.type) return undefined;
  const sameName =
    (change.type === "basic" && current.type === "basic" && change.username === current.username) ||
    (change.type === "header" && current.type === "header" && change.name.toLowerCase() === current.name.toLowerCase()) ||
    change.type === "bearer";
  return sameName ? { keep: true } : undefined;
}
