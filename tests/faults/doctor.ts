// Doctored copies of a real backup: bit flips at random offsets, truncations, appended
// bytes, a wrong passphrase, swapped and rewritten manifests, swapped or missing objects.
// Each case writes its damage over the stored objects of backup A, a restore is refused,
// and restoreOriginal() puts the good bytes back for the next case.
import { createHash } from "node:crypto";
import type { Storage } from "../../lib/backup/storage/types";
import { PASSPHRASE } from "../support/context";

export interface StoredBackup {
  id: string;
  archiveKey: string;
  manifestKey: string;
  archive: Buffer;
  manifest: Buffer;
}

export interface DoctorContext {
  storage: Storage;
  /** The backup being doctored. */
  a: StoredBackup;
  /** Another good backup of the same target (for swaps). */
  b: StoredBackup;
}

export interface DoctorCase {
  n: number;
  kind: string;
  description: string;
  /** Restore with this passphrase instead of the right one. */
  passphrase?: string;
  apply(c: DoctorContext): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function flip(buf: Buffer, offset: number, bit: number): Buffer {
  const out = Buffer.from(buf);
  out[offset] ^= 1 << bit;
  return out;
}

/** Shares of each kind of damage; bit flips take whatever rounding leaves. */
const MIX: [kind: string, share: number][] = [
  ["truncated archive", 0.2],
  ["appended bytes", 0.05],
  ["wrong passphrase", 0.1],
  ["manifest of another backup", 0.05],
  ["archive of another backup", 0.05],
  ["archive and manifest of another backup", 0.05],
  ["archive flipped, manifest rewritten to match", 0.05],
  ["manifest damaged", 0.05],
  ["archive missing", 0.03],
  ["manifest missing", 0.02],
];

export function doctorCases(count: number, seed: number): DoctorCase[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const kinds: string[] = [];
  for (const [kind, share] of MIX) for (let i = 0; i < Math.max(1, Math.floor(share * count)); i++) kinds.push(kind);
  while (kinds.length < count) kinds.push("bit flip");
  kinds.length = count;

  return kinds.map((kind, i): DoctorCase => {
    const n = i + 1;
    switch (kind) {
      case "bit flip": {
        // Spread over the OpenPGP header, the body, and the integrity trailer at the end.
        const where = int(10);
        const pick = (len: number) => (where === 0 ? int(Math.min(64, len)) : where === 1 ? len - 1 - int(Math.min(64, len)) : int(len));
        const bit = int(8);
        return {
          n,
          kind,
          description: `bit ${bit} flipped at ${where === 0 ? "header" : where === 1 ? "trailer" : "random"} offset`,
          async apply(c) {
            const off = pick(c.a.archive.length);
            this.description = `bit ${bit} flipped at offset ${off} of ${c.a.archive.length}`;
            await c.storage.putBytes(c.a.archiveKey, flip(c.a.archive, off, bit));
          },
        };
      }
      case "truncated archive": {
        const r = rnd();
        return {
          n,
          kind,
          description: "truncated",
          async apply(c) {
            const len = c.a.archive.length;
            // Edge lengths first: empty, one byte, one byte short; then anywhere.
            const keep = i % 5 === 0 ? 0 : i % 5 === 1 ? 1 : i % 5 === 2 ? len - 1 : Math.floor(r * len);
            this.description = `truncated to ${keep} of ${len} bytes`;
            await c.storage.putBytes(c.a.archiveKey, c.a.archive.subarray(0, keep));
          },
        };
      }
      case "appended bytes": {
        const extra = 1 + int(4096);
        return {
          n,
          kind,
          description: `${extra} bytes appended`,
          async apply(c) {
            await c.storage.putBytes(c.a.archiveKey, Buffer.concat([c.a.archive, Buffer.alloc(extra, 0x5a)]));
          },
        };
      }
      case "wrong passphrase": {
        const variants = ["", " ", PASSPHRASE.replace(/1$/, "2"), PASSPHRASE.toUpperCase(), `${PASSPHRASE} `, "passphrase", "ü".repeat(40), "x".repeat(10_000)];
        const passphrase = variants[int(variants.length)];
        return { n, kind, description: `restored with passphrase of ${passphrase.length} chars`, passphrase: passphrase || "wrong-but-long-enough", async apply() {} };
      }
      case "manifest of another backup":
        return {
          n,
          kind,
          description: "B's manifest at A's manifest key",
          async apply(c) {
            await c.storage.putBytes(c.a.manifestKey, c.b.manifest);
          },
        };
      case "archive of another backup":
        return {
          n,
          kind,
          description: "B's archive (valid, other checksum) at A's archive key",
          async apply(c) {
            await c.storage.putBytes(c.a.archiveKey, c.b.archive);
          },
        };
      case "archive and manifest of another backup":
        return {
          n,
          kind,
          description: "B's archive and manifest at A's keys",
          async apply(c) {
            await c.storage.putBytes(c.a.archiveKey, c.b.archive);
            await c.storage.putBytes(c.a.manifestKey, c.b.manifest);
          },
        };
      case "archive flipped, manifest rewritten to match": {
        const frac = rnd();
        return {
          n,
          kind,
          description: "archive bit flip with the manifest's checksums updated to the doctored bytes",
          async apply(c) {
            const bad = flip(c.a.archive, Math.floor(frac * c.a.archive.length), 3);
            const m = JSON.parse(c.a.manifest.toString("utf8")) as { checksumSha256: string; parts: { name: string; sha256: string; sizeBytes: number }[] };
            const h = sha256(bad);
            m.checksumSha256 = h;
            for (const p of m.parts) if (p.name === "database") p.sha256 = h;
            await c.storage.putBytes(c.a.archiveKey, bad);
            await c.storage.putBytes(c.a.manifestKey, JSON.stringify(m, null, 2));
          },
        };
      }
      case "manifest damaged": {
        const how = int(4);
        const frac = rnd();
        return {
          n,
          kind,
          description: ["manifest bit flip", "manifest truncated", "manifest not JSON", "manifest empty"][how],
          async apply(c) {
            const m = c.a.manifest;
            const bad =
              how === 0 ? flip(m, Math.floor(frac * m.length), 1) : how === 1 ? m.subarray(0, Math.floor(frac * m.length)) : how === 2 ? Buffer.from("<html>not a manifest</html>") : Buffer.alloc(0);
            await c.storage.putBytes(c.a.manifestKey, bad);
          },
        };
      }
      case "archive missing":
        return {
          n,
          kind,
          description: "archive deleted",
          async apply(c) {
            await c.storage.delete(c.a.archiveKey);
          },
        };
      case "manifest missing":
        return {
          n,
          kind,
          description: "manifest deleted",
          async apply(c) {
            await c.storage.delete(c.a.manifestKey);
          },
        };
      default:
        throw new Error(`unknown doctor kind ${kind}`);
    }
  });
}

/** Puts A's good bytes back. */
export async function restoreOriginal(c: DoctorContext): Promise<void> {
  await c.storage.putBytes(c.a.archiveKey, c.a.archive);
  await c.storage.putBytes(c.a.manifestKey, c.a.manifest);
}

/**
 * A "bit flip" that happens to flip a byte inside the manifest's JSON whitespace could in
 * theory leave a valid manifest; a doctored case only counts when the bytes really differ.
 */
export async function bytesChanged(c: DoctorContext): Promise<boolean> {
  const get = (k: string) => c.storage.getBytes(k).catch(() => null);
  const [arch, man] = await Promise.all([get(c.a.archiveKey), get(c.a.manifestKey)]);
  return !arch || !man || !arch.equals(c.a.archive) || !man.equals(c.a.manifest);
}
