// The client's IP address, for sign-in throttling and the audit log (issue 12 §2).
// By default it is the TCP peer: X-Forwarded-For is written by whoever sends the request,
// so believing it lets any client pick its own throttle bucket. TRUST_PROXY names the
// reverse proxies in front of Vaultline — a hop count ("1") or their addresses/CIDRs
// ("10.0.0.0/8,192.168.1.7") — and only what those proxies appended is believed.
import { BlockList, isIP } from "node:net";

/** Set by our HTTP server (lib/http-server.ts) on every request, replacing any sent. */
export const PEER_HEADER = "x-vaultline-peer";
/** What a request counts as when the peer is unknown (`next dev`, not our server). */
export const UNKNOWN_PEER = "unknown";

export type TrustProxy = { kind: "none" } | { kind: "hops"; hops: number } | { kind: "list"; list: BlockList };

function normalize(ip: string): string {
  const t = ip.trim().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  return mapped ? mapped[1] : t;
}

/** Parses TRUST_PROXY; throws an Error naming the bad entry. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = (value ?? "").trim();
  if (!v || v === "0" || v === "false") return { kind: "none" };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 20) throw new Error("a hop count above 20 is not plausible");
    return { kind: "hops", hops };
  }
  const list = new BlockList();
  for (const raw of v.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [addr, bits, extra] = raw.split("/");
    const a = normalize(addr);
    const family = isIP(a);
    if (!family || extra !== undefined) throw new Error(`"${raw}" is not an IP address or CIDR`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(a, type);
    else {
      const n = Number(bits);
      if (!/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)) throw new Error(`"${raw}" has a bad prefix length`);
      list.addSubnet(a, n, type);
    }
  }
  return { kind: "list", list };
}

function trusted(list: BlockList, ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/**
 * The client address: the peer, unless the peer is a trusted proxy — then walk
 * X-Forwarded-For from the right past the trusted proxies and take the first other entry.
 */
export function resolveClientIp(peer: string | null | undefined, forwardedFor: string | null | undefined, trust: TrustProxy): string {
  if (!peer) return UNKNOWN_PEER;
  const p = normalize(peer);
  if (trust.kind === "none") return p;
  // Nearest last: [client, proxy1, …, proxyN-1, peer].
  const chain = [...(forwardedFor ?? "").split(",").map(normalize).filter(Boolean), p];
  if (trust.kind === "hops") {
    const i = chain.length - 1 - trust.hops;
    const ip = chain[Math.max(0, i)];
    return isIP(ip) ? ip : p;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trusted(trust.list, chain[i])) return isIP(chain[i]) ? chain[i] : chain[Math.min(i + 1, chain.length - 1)];
  }
  return chain[0];
}
