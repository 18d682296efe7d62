// A scheduled backup of an unreachable target, through the real queue and worker: three
// attempts linked to the first, each after its (shortened) delay, and each failure
// announced as "attempt n of 3" on a real webhook receiver and SMTP server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, waitFor, type TestEnv } from "./support/vitest-env";
import { closedPort, startHookReceiver, startSmtp, type HookReceiver } from "./support/receivers";
import { startWorker, type WorkerHandle } from "../lib/worker";
import { enqueueBackup } from "../lib/backup/jobs";
import { startRetries } from "../lib/backup/retries";
import { startNotifications } from "../lib/notify/wiring";
import { setChannels, webhookAndEmail } from "./support/channels";
import { stopBosses } from "../lib/queue";

const SECRET = "whsec-retries-test";
const DELAYS = [1, 2];

describe("retries of a failed scheduled backup", () => {
  let env: TestEnv;
  let worker: WorkerHandle;
  let hooks: HookReceiver;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let stopRetries: () => void;
  let stopNotify: () => Promise<void>;

  beforeAll(async () => {
    const port = await closedPort();
    env = await makeEnv({ seed: false, overrides: { targetUrl: `postgresql://vaultline:secret@127.0.0.1:${port}/unreachable` } });
    hooks = await startHookReceiver(SECRET);
    smtp = await startSmtp();
    await setChannels(env.db, webhookAndEmail(hooks.url, ["ops@example.com"]));
    stopRetries = startRetries(env.ctx, { maxAttempts: 3, delaysSeconds: DELAYS });
    stopNotify = startNotifications(env.ctx, {
      cfg: { WEBHOOK_SECRET: SECRET, SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.com" },
      notifyOptions: { retries: 0, timeoutMs: 5000 },
    });
    worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
  });

  afterAll(async () => {
    await worker.stop();
    stopRetries();
    await stopNotify();
    await stopBosses();
    await hooks.close();
    await smtp.close();
    await env.cleanup();
  });

  it("makes 3 linked attempts with the backoff between them, then stops; each failure says which try", async () => {
    const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    // A scheduled job recorded with 3 attempts (the default is 4; short chain, same rules).
    const row = await env.db.backupJob.create({
      data: { kind: "FULL", trigger: "SCHEDULED", metadata: { scheduleSlot: slot.toISOString(), maxAttempts: 3, includeFiles: false, phases: [] } },
    });
    await enqueueBackup(env.ctx, row.id);
    const first = { jobId: row.id };

    const chain = await waitFor(async () => {
      const rows = await env.db.backupJob.findMany({ orderBy: { attempt: "asc" } });
      return rows.length === 3 && rows.every((r) => r.status === "FAILED") ? rows : null;
    }, 60_000);
    await waitFor(async () => hooks.hooks.length >= 3 && smtp.mails.length >= 3, 20_000);

    expect(chain.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(chain[0].id).toBe(first.jobId);
    expect(chain[0].retryOfId).toBeNull();
    expect(chain[1].retryOfId).toBe(first.jobId);
    expect(chain[2].retryOfId).toBe(first.jobId);
    for (const r of chain) {
      expect(r.trigger).toBe("SCHEDULED");
      expect(r.failureReason).toMatch(/cannot connect|ECONNREFUSED|connect/i);
      expect((r.metadata as { scheduleSlot?: string }).scheduleSlot).toBe(slot.toISOString());
    }
    // Each retry started no sooner than its delay after the previous attempt failed.
    for (let i = 1; i < 3; i++) {
      const gap = chain[i].startedAt!.getTime() - chain[i - 1].completedAt!.getTime();
      expect(gap).toBeGreaterThanOrEqual(DELAYS[i - 1] * 1000 - 50);
    }
    const retryAudits = await env.db.auditEvent.findMany({ where: { action: "backup.retry_scheduled" }, orderBy: { at: "asc" } });
    expect(retryAudits.map((a) => (a.details as { attempt: number }).attempt)).toEqual([2, 3]);

    const payloads = hooks.hooks.map((h) => h.payload).sort((a, b) => a.attempt! - b.attempt!);
    expect(payloads.map((p) => [p.event, p.attempt, p.maxAttempts])).toEqual([
      ["backup.failed", 1, 3],
      ["backup.failed", 2, 3],
      ["backup.failed", 3, 3],
    ]);
    expect(payloads.map((p) => p.backup!.id)).toEqual(chain.map((r) => r.id));
    expect(payloads[1].text).toContain("attempt 2 of 3");
    expect(payloads[2].backup!.failureReason).toBe(chain[2].failureReason);
    expect(hooks.hooks.every((h) => h.signatureValid)).toBe(true);

    const subjects = smtp.mails.map((m) => m.subject).sort();
    expect(subjects).toEqual([1, 2, 3].map((n) => `[Vaultline] default target: Backup FAILED (FULL, scheduled, attempt ${n} of 3)`));
    const last = smtp.mails.find((m) => m.subject.includes("attempt 3 of 3"))!;
    expect(last.to).toEqual(["ops@example.com"]);
    expect(last.body).toContain("This was the last attempt");
    expect(smtp.mails.find((m) => m.subject.includes("attempt 1 of 3"))!.body).toContain("Vaultline will try again.");

    // No fourth attempt.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await env.db.backupJob.count()).toBe(3);
  });
});
