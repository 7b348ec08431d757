import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyAddress, refusalReason } from "../../lambdas/domain/addresses.ts";

describe("address classes for the SSRF guard", () => {
  it.each([
    ["8.8.8.8", "public"],
    ["200.160.2.3", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["169.254.1.1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.100.100.200", "metadata"],
    ["224.0.0.1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fd12:3456::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2606:4700:4700::1111", "public"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::10.1.2.3", "private"],
    ["[::1]", "loopback"],
  ])("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it("judges an IPv4-mapped IPv6 address as the IPv4 address it carries", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(classifyAddress(`::ffff:${v4}`)).toBe(classifyAddress(v4));
      }),
    );
  });

  it("says why an address is refused, and lets loopback through only when allowed", () => {
    expect(refusalReason("10.0.0.5", { allowLoopback: false })).toBe("blocked: 10.0.0.5 is a private address");
    expect(refusalReason("169.254.169.254", { allowLoopback: true })).toBe(
      "blocked: 169.254.169.254 is a cloud metadata address",
    );
    expect(refusalReason("127.0.0.1", { allowLoopback: false })).toBe("blocked: 127.0.0.1 is a loopback address");
    expect(refusalReason("127.0.0.1", { allowLoopback: true })).toBeUndefined();
    expect(refusalReason("::1", { allowLoopback: true })).toBeUndefined();
    expect(refusalReason("8.8.8.8", { allowLoopback: false })).toBeUndefined();
  });

  it("refuses non-addresses", () => {
    expect(() => classifyAddress("example.com")).toThrow(/not an IP address/);
  });
});
