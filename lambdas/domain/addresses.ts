import { BlockList, isIP } from "node:net";

/**
 * Where an IP address points, for the SSRF guard: deliveries go only to `public`
 * addresses. Built on node's BlockList; IPv4 embedded in IPv6 (mapped, compatible-style
 * NAT64) is judged as the IPv4 address it carries.
 */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "cgnat"
  | "multicast"
  | "unspecified"
  | "metadata"
  | "reserved";

const DESCRIPTIONS: Record<Exclude<AddressClass, "public">, string> = {
  loopback: "a loopback address",
  private: "a private address",
  "link-local": "a link-local address",
  cgnat: "a carrier-grade NAT address",
  multicast: "a multicast address",
  unspecified: "an unspecified address",
  metadata: "a cloud metadata address",
  reserved: "a reserved address",
};

type Rule = readonly [AddressClass, string, number, "ipv4" | "ipv6"];

// Order matters: the first matching rule names the address (metadata before link-local).
const RULES: readonly Rule[] = [
  ["metadata", "169.254.169.254", 32, "ipv4"],
  ["metadata", "169.254.170.2", 32, "ipv4"],
  ["metadata", "100.100.100.200", 32, "ipv4"],
  ["metadata", "192.0.0.192", 32, "ipv4"],
  ["metadata", "fd00:ec2::254", 128, "ipv6"],
  ["unspecified", "0.0.0.0", 8, "ipv4"],
  ["private", "10.0.0.0", 8, "ipv4"],
  ["cgnat", "100.64.0.0", 10, "ipv4"],
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["link-local", "169.254.0.0", 16, "ipv4"],
  ["private", "172.16.0.0", 12, "ipv4"],
  ["reserved", "192.0.0.0", 24, "ipv4"],
  ["reserved", "192.0.2.0", 24, "ipv4"],
  ["reserved", "192.88.99.0", 24, "ipv4"],
  ["private", "192.168.0.0", 16, "ipv4"],
  ["reserved", "198.18.0.0", 15, "ipv4"],
  ["reserved", "198.51.100.0", 24, "ipv4"],
  ["reserved", "203.0.113.0", 24, "ipv4"],
  ["multicast", "224.0.0.0", 4, "ipv4"],
  ["reserved", "240.0.0.0", 4, "ipv4"],
  ["unspecified", "::", 128, "ipv6"],
  ["loopback", "::1", 128, "ipv6"],
  ["reserved", "64:ff9b:1::", 48, "ipv6"],
  ["reserved", "100::", 64, "ipv6"],
  ["reserved", "2001::", 23, "ipv6"],
  ["reserved", "2001:db8::", 32, "ipv6"],
  ["reserved", "2002::", 16, "ipv6"],
  ["private", "fc00::", 7, "ipv6"],
  ["link-local", "fe80::", 10, "ipv6"],
  ["private", "fec0::", 10, "ipv6"],
  ["multicast", "ff00::", 8, "ipv6"],
  // Anything outside global unicast (2000::/3) is not a place to deliver to.
  ["reserved", "::", 3, "ipv6"],
  ["reserved", "4000::", 2, "ipv6"],
  ["reserved", "8000::", 1, "ipv6"],
];

// One list per rule and family: a BlockList also matches IPv4 addresses against IPv6
// rules (through their mapped form), which would make every IPv4 address "reserved".
const LISTS: readonly (readonly [AddressClass, "ipv4" | "ipv6", BlockList])[] = RULES.map(
  ([kind, network, prefix, family]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return [kind, family, list] as const;
  },
);

/** IPv6 forms that carry an IPv4 address: ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d (NAT64). */
function embeddedIPv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return undefined;
}

export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) throw new TypeError(`${address} is not an IP address`);
  if (family === 6) {
    const v4 = embeddedIPv4(bare);
    if (v4 !== undefined) return classifyAddress(v4);
  }
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [kind, ruleFamily, list] of LISTS) {
    if (ruleFamily === type && list.check(bare, type)) return kind;
  }
  return "public";
}

export interface AddressPolicy {
  /** Only the local runtime sets this: its receivers listen on loopback. */
  readonly allowLoopback: boolean;
}

/** Why a delivery to this address is refused, or undefined when it may go ahead. */
export function refusalReason(address: string, policy: AddressPolicy): string | undefined {
  const kind = classifyAddress(address);
  if (kind === "public" || (kind === "loopback" && policy.allowLoopback)) return undefined;
  return `blocked: ${address} is ${DESCRIPTIONS[kind]}`;
}
