// An application that rewrites a file in place while the backup archives it (decision 168).
// The tar header had promised the file's size; cut short, the entry failed the whole backup
// — its database part and the deploy gate with it — for one upload the application was
// rewriting. Now the file is archived at its first size with zeros at its end, as GNU tar
// does, and the backup says so: its manifest's files part names it, the restore's preview
// warns before anyone chooses the backup, and the restore brings back what was read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase } from "./support/app-fixture";
import { restore } from "./support/restore-steps";
import { runBackup } from "../lib/backup/run-backup";
import { previewRestore } from "../lib/backup/preview";
import { stopBosses } from "../lib/queue";

const MiB = 1024 * 1024;
const fingerprint = (url: string) => catalogFingerprint(sql, url);

afterAll(async () => {
  await stopBosses();
});

describe("a file the application cuts short while the files are archived", () => {
  let env: TestEnv;
  let parent: string;
  let filesDir: string;
  let original: Buffer;
  let originalDb: Record<string, string>;
  let backupId: string;
  let failureReason: string | undefined;

  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), "vaultline-files-changed-"));
    filesDir = path.join(parent, "uploads");
    mkdirSync(path.join(filesDir, "exports"), { recursive: true });
    original = randomBytes(32 * MiB);
    writeFileSync(path.join(filesDir, "exports", "nightly.csv"), original);
    writeFileSync(path.join(filesDir, "robots.txt"), "User-agent: *\n");
    env = await makeEnv({ seed: false, overrides: { filesDir, restoreStrategy: "swap" } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    originalDb = await fingerprint(env.targetUrl);

    // Once 2 MiB of the files part have reached storage, the big file is being read: the
    // application truncates it then, to write it again.
    const storage = env.ctx.storage;
    const put = storage.put.bind(storage);
    storage.put = (key, body, opts) => {
      if (!key.endsWith("files.tar.gpg")) return put(key, body, opts);
      let passed = 0;
      let cut = false;
      const cutting = new Transform({
        transform(chunk: Buffer, _enc, done) {
          passed += chunk.length;
          if (!cut && passed >= 2 * MiB) {
            cut = true;
            truncateSync(path.join(filesDir, "exports", "nightly.csv"), MiB);
          }
          done(null, chunk);
        },
      });
      body.on("error", (e) => cutting.destroy(e));
      return put(key, body.pipe(cutting) as Readable, opts);
    };
    try {
      const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
      failureReason = (await runBackup(env.ctx, job.id)).failureReason;
      backupId = job.id;
    } finally {
      storage.put = put;
    }
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await rm(parent, { recursive: true, force: true });
  });

  it("the backup succeeds, and its manifest names the file and how it changed", async () => {
    expect(failureReason).toBeUndefined();
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    expect(job.status).toBe("SUCCEEDED");
    const files = (await previewRestore(env.ctx, backupId)).manifest!.parts.find((p) => p.name === "files")!;
    expect(files.changedWhileArchived).toEqual({
      count: 1,
      names: [expect.stringMatching(/^exports\/nightly\.csv \(cut short while it was read: \d+ of 33554432 bytes; archived with \d+ bytes of zeros at its end\)$/)],
    });
  });

  it("the preview warns before anyone chooses this backup", async () => {
    const { warnings } = await previewRestore(env.ctx, backupId);
    const w = warnings.find((x) => x.startsWith("While this backup archived its files"));
    expect(w).toMatch(/^While this backup archived its files, the application changed one of them: exports\/nightly\.csv \(cut short while it was read: .*\)\. It is restored as read, which may be neither the content before nor after the change; an earlier or later backup may hold it whole\.$/);
  });

  it("the restore brings back the database exactly and the file as it was read: its first size, zeros at its end", async () => {
    writeFileSync(path.join(filesDir, "exports", "nightly.csv"), "rewritten by the application");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    const back = readFileSync(path.join(filesDir, "exports", "nightly.csv"));
    expect(back.length).toBe(32 * MiB);
    expect(back.subarray(0, MiB).equals(original.subarray(0, MiB))).toBe(true);
    expect(back.subarray(16 * MiB).equals(Buffer.alloc(16 * MiB))).toBe(true);
    expect(readFileSync(path.join(filesDir, "robots.txt"), "utf8")).toBe("User-agent: *\n");
    expect(await fingerprint(env.targetUrl)).toEqual(originalDb);
  });
});
