// Working from storage alone — the catalogue database may be gone (DESIGN §1: recover
// even when the dashboard itself is gone). Used by the CLI.
import type { Storage } from "./storage/types";
import { parseManifest, type Manifest } from "./manifest";
import { verifyStoredObject } from "./archive";

export async function listManifests(storage: Storage, prefix: string, env: string): Promise<{ key: string; manifest: Manifest }[]> {
  const out: { key: string; manifest: Manifest }[] = [];
  for await (const o of storage.list(`${prefix}/${env}/`)) {
    if (!o.key.endsWith("/manifest.json")) continue;
    try {
      out.push({ key: o.key, manifest: parseManifest(await storage.getBytes(o.key)) });
    } catch {
      // An unreadable manifest is reported by `verify`, not by a listing.
    }
  }
  return out.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

export async function findManifest(storage: Storage, prefix: string, env: string, id: string) {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`not a backup id: ${id}`);
  for await (const o of storage.list(`${prefix}/${env}/`)) {
    if (o.key.endsWith(`/${id}/manifest.json`)) return { key: o.key, manifest: parseManifest(await storage.getBytes(o.key)) };
  }
  throw new Error(`no backup ${id} under ${prefix}/${env}/ in ${storage.description}`);
}

export async function verifyParts(storage: Storage, manifest: Manifest, passphrase: string, binDir?: string) {
  const results = [];
  for (const p of manifest.parts) {
    const r = await verifyStoredObject({
      storage,
      key: p.key,
      passphrase,
      expectedSha256: p.sha256,
      expectedPlainSha256: p.plainSha256,
      binDir,
      kind: p.name === "files" ? "tar" : "pgdump",
      compression: p.compression,
    });
    results.push({ part: p.name, ...r });
  }
  return results;
}
