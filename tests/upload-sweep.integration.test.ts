// The worker's sweep of unfinished uploads (lib/backup/jobs.ts removeOrphanedUploads) must
// remove temp files no RUNNING job owns, and never the temp file of a small record beside
// the targets' folders (targets/<id>.json, written by every backup of a non-default target):
// in CI a sweep running alongside deleted one before its rename and a backup FAILED (ENOENT).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeEnv } from "./support/vitest-env";
import { removeOrphanedUploads } from "../lib/backup/jobs";

let env: Awaited<ReturnType<typeof makeEnv>>;

beforeAll(async () => {
  env = await makeEnv();
}, 120_000);

afterAll(async () => {
  await env?.cleanup();
});

describe("the sweep of unfinished uploads", () => {
  it("removes a finished job's leftover temp file, keeps a target record's and a running job's", async () => {
    const base = path.join(env.storageDir!, ...env.ctx.prefix.split("/"), env.ctx.env);
    const running = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", status: "RUNNING" } });
    const files = {
      orphan: path.join(base, "default", "2026", "12", "cmdeadjob0000", ".archive.dump.gpg.vaultline-tmp-aaaa"),
      busy: path.join(base, "default", "2026", "12", running.id, ".archive.dump.gpg.vaultline-tmp-bbbb"),
      record: path.join(base, "targets", ".cmsometarget.json.vaultline-tmp-cccc"),
    };
    for (const f of Object.values(files)) {
      await mkdir(path.dirname(f), { recursive: true });
      await writeFile(f, "partial");
    }
    expect(await removeOrphanedUploads(env.ctx)).toBe(1);
    expect(existsSync(files.orphan)).toBe(false);
    expect(existsSync(files.busy)).toBe(true);
    expect(existsSync(files.record)).toBe(true);
  });
});
