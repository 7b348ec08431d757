import { isIP } from "node:net";
import { refusalReason, type AddressPolicy } from "./addresses.ts";

export const ENDPOINT_MAX_LENGTH = 500;

export type EndpointCheck =
  | { readonly ok: true; readonly normalized: string }
  | { readonly ok: false; readonly rule: string; readonly message: string };

const fail = (rule: string, message: string): EndpointCheck => ({ ok: false, rule, message });

/**
 * The rules every webhook endpoint obeys: an absolute https URL of at most 500 printable
 * ASCII characters (international host names in punycode, so no look-alike Unicode can
 * hide a host), without credentials or fragment, whose host is not a literal address the
 * delivery guard would refuse anyway. Host names are checked again, resolved, at delivery.
 * `normalized` is the WHATWG serialization, used to detect duplicates.
 */
export function checkEndpointUrl(value: string, policy: AddressPolicy): EndpointCheck {
  if (value.length === 0) return fail("required", "must not be empty");
  if (value.length > ENDPOINT_MAX_LENGTH) {
    return fail("maxLength", `must have at most ${ENDPOINT_MAX_LENGTH} characters, has ${value.length}`);
  }
  if (/\s/.test(value)) return fail("whitespace", "must not contain spaces, tabs or line breaks");
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[^\x21-\x7e]/.test(value)) {
    return fail(
      "ascii",
      "must contain only printable ASCII characters; write international host names in punycode (xn--…) and percent-encode the rest",
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail("url", "must be an absolute URL such as https://example.com/webhooks");
  }
  if (url.protocol !== "https:") return fail("https", `must use https, not ${url.protocol.replace(":", "")}`);
  if (url.username !== "" || url.password !== "") return fail("credentials", "must not carry a user name or password");
  if (value.includes("#")) return fail("fragment", "must not have a fragment (#…)");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const isLocalhostName = host === "localhost" || host.endsWith(".localhost");
  const literal = isIP(host) !== 0 ? host : isLocalhostName ? "127.0.0.1" : undefined;
  if (literal !== undefined) {
    const refusal = refusalReason(literal, policy);
    if (refusal) return fail("publicAddress", `must point to a public address (${refusal.replace(/^blocked: /, "")})`);
  }
  return { ok: true, normalized: url.href };
}

/**
 * The form two spellings of one endpoint share (the WHATWG serialization `checkEndpointUrl`
 * calls `normalized`): `https://API.example.com:443/x` and `https://api.example.com/x` are one
 * endpoint. A string that is not a URL stands for itself.
 */
export function endpointKey(value: string): string {
  return URL.canParse(value) ? new URL(value).href : value;
}
