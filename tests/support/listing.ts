// What a store holds: listed keys, one job's folder, and the temp files a killed local
// writer leaves on disk (never listed).
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { BackupContext } from "../../lib/backup/context";
import type { Storage } from "../../lib/backup/storage/types";
import { backupKeys } from "../../lib/backup/manifest";

export async function listKeys(storage: Storage, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** Keys listed under one job's folder. */
export async function listedFor(ctx: BackupContext, job: { id: string; createdAt: Date }): Promise<string[]> {
  return listKeys(ctx.storage, `${backupKeys(ctx.prefix, ctx.env, job.id, job.createdAt).dir}/`);
}

/** Temp files a killed writer left in a local store. */
export async function localTempFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.includes(".vaultline-tmp-")) out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}
