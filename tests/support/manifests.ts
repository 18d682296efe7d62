// A stored backup's manifest, read and doctored as an older (or another) Vaultline would have
// written it: the manifest and the catalogue's digest of it rewritten together.
import type { TestEnv } from "./vitest-env";
import { backupKeys, manifestDigest, type Manifest } from "../../lib/backup/manifest";

export async function manifestOf(env: TestEnv, id: string): Promise<{ key: string; m: Manifest }> {
  const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
  const key = backupKeys(env.ctx.prefix, env.ctx.env, id, job.createdAt).manifest;
  return { key, m: JSON.parse((await env.ctx.storage.getBytes(key)).toString("utf8")) as Manifest };
}

/** Rewrites a manifest and the catalogue's digest of it, as a consistent (if doctored) backup. */
export async function writeManifest(env: TestEnv, id: string, key: string, m: Manifest) {
  const text = `${JSON.stringify(m, null, 2)}\n`;
  await env.ctx.storage.putBytes(key, text, "application/json");
  await env.db.backupJob.update({ where: { id }, data: { manifestSha256: manifestDigest(text), checksumSha256: m.checksumSha256, sizeBytes: BigInt(m.sizeBytes) } });
}
