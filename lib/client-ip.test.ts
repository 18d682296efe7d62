import { describe, expect, it } from "vitest";
import { parseTrustProxy, resolveClientIp, UNKNOWN_PEER } from "./client-ip";

const none = parseTrustProxy(undefined);

describe("resolveClientIp", () => {
  it("is the socket peer by default, whatever X-Forwarded-For claims", () => {
    expect(resolveClientIp("203.0.113.9", "1.2.3.4", none)).toBe("203.0.113.9");
    expect(resolveClientIp("::ffff:127.0.0.1", "10.9.9.9, 1.1.1.1", none)).toBe("127.0.0.1");
    expect(resolveClientIp(undefined, "1.2.3.4", none)).toBe(UNKNOWN_PEER);
  });

  it("with a hop count, takes the entry that many proxies back", () => {
    const one = parseTrustProxy("1");
    expect(resolveClientIp("10.0.0.2", "198.51.100.7", one)).toBe("198.51.100.7");
    // A client-supplied first entry is ignored: the proxy appended the real address.
    expect(resolveClientIp("10.0.0.2", "6.6.6.6, 198.51.100.7", one)).toBe("198.51.100.7");
    expect(resolveClientIp("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", parseTrustProxy("2"))).toBe("198.51.100.7");
    // Fewer entries than hops: the leftmost is all there is.
    expect(resolveClientIp("10.0.0.2", null, parseTrustProxy("2"))).toBe("10.0.0.2");
    expect(resolveClientIp("10.0.0.2", "garbage", one)).toBe("10.0.0.2");
  });

  it("with CIDRs, skips trusted proxies from the right and believes nothing from an untrusted peer", () => {
    const cidrs = parseTrustProxy("10.0.0.0/8, 192.168.1.7, fd00::/8");
    expect(resolveClientIp("10.1.2.3", "6.6.6.6, 198.51.100.7, 192.168.1.7", cidrs)).toBe("198.51.100.7");
    expect(resolveClientIp("203.0.113.9", "1.2.3.4", cidrs)).toBe("203.0.113.9");
    expect(resolveClientIp("fd00::1", "2001:db8::5", cidrs)).toBe("2001:db8::5");
    expect(resolveClientIp("10.1.2.3", "10.0.0.9", cidrs)).toBe("10.0.0.9");
  });
});

describe("parseTrustProxy", () => {
  it("refuses what it cannot read", () => {
    expect(() => parseTrustProxy("10.0.0.0/33")).toThrow(/prefix/);
    expect(() => parseTrustProxy("proxy.local")).toThrow(/not an IP/);
    expect(() => parseTrustProxy("true")).toThrow();
    expect(parseTrustProxy("0")).toEqual({ kind: "none" });
  });
});
