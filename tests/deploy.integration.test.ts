// The Deployment Control Center on real parts: the pre-deploy gate against real backups
// and real checks, deploy and rollback hooks as real shell processes and a loopback
// webhook receiver, a rollback that restores real data, and check runs that catch
// seeded faults (seed 002 and seed 004).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEnv, waitFor, sql, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { startHookReceiver } from "./support/receivers";
import { runBackup } from "../lib/backup/run-backup";
import { runRestore } from "../lib/backup/restore";
import { startWorker } from "../lib/worker";
import { stopBosses } from "../lib/queue";
import { SYSTEM } from "../lib/audit";
import { gateResponse, runGate } from "../lib/deploy/gate";
import { gateRequestSchema, type GateRequestInput } from "../lib/validation/deploy";
import { getDeployment, listDeployments, recordDeployment, type Who } from "../lib/deploy/deployments";
import { startDeploy, settleHookRuns } from "../lib/deploy/run";
import { startRollback } from "../lib/deploy/rollback";
import { startDeployWatcher } from "../lib/deploy/watcher";
import { latestCheckRun, runAndStoreChecks } from "../lib/deploy/checks-store";
import { deployState } from "../lib/deploy/state";
import type { DeployHooks, HookConfig } from "../lib/deploy/hooks";
import { LOG_CAP_BYTES } from "../lib/deploy/deploy-log";
import type { CheckRun } from "../lib/validation/checks";

const who: Who = { actor: { type: "user", id: null, label: "ci@example.com" }, userId: null };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const tmp = await mkdtemp(path.join(tmpdir(), "vaultline-deploy-"));
const answers: Record<string, unknown> = {};

afterAll(async () => {
  await settleHookRuns();
  await stopBosses();
  await mkdir("test-results", { recursive: true });
  await writeFile("test-results/gate-answers.json", JSON.stringify(answers, null, 2));
  await rm(tmp, { recursive: true, force: true });
});

/** pg-boss holds connections to the env's database; stop it before the database is dropped. */
async function cleanup(env: TestEnv) {
  await settleHookRuns();
  await stopBosses();
  await env.cleanup();
}

const gate = (env: TestEnv, input: GateRequestInput) => runGate(env.ctx, gateRequestSchema.parse(input), who);

async function backup(env: TestEnv, kind: "FULL" | "QUICK", commitSha: string | null = SHA) {
  const job = await env.db.backupJob.create({ data: { kind, trigger: "MANUAL", commitSha, metadata: { includeFiles: false, phases: [] } } });
  const r = await runBackup(env.ctx, job.id);
  expect(r).toEqual({ status: "SUCCEEDED" });
  return env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
}

const none: HookConfig = { timeoutMs: 30_000 };
const hooks = (deploy: Partial<HookConfig> = {}, rollback: Partial<HookConfig> = {}): DeployHooks => ({
  deploy: { ...none, ...deploy },
  rollback: { ...none, ...rollback },
});

const byId = (run: CheckRun | null, id: string) => {
  const r = run?.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id} in ${run?.results.map((x) => x.id).join(", ")}`);
  return r;
};

describe("the pre-deploy gate", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv();
  });
  afterAll(() => cleanup(env));

  it("answers 428 with an actionable reason when there is no backup, and records and audits the decision", async () => {
    const g = await gate(env, { commitSha: SHA });
    const res = gateResponse(g);
    answers.noBackup428 = res;
    expect(res.status).toBe(428);
    expect(res.body).toMatchObject({ allowed: false, error: { code: "BACKUP_REQUIRED" } });
    expect(g.reasons).toHaveLength(1);
    expect(g.reasons[0]).toMatch(/No successful backup exists.*createIfMissing/);
    expect(g.checks?.status).toBe("pass");

    const row = await env.db.deployment.findUniqueOrThrow({ where: { id: g.deploymentId } });
    expect(row).toMatchObject({ status: "BLOCKED", gateDecision: false, commitSha: SHA, reasons: g.reasons, actorLabel: "ci@example.com", backupId: null });
    expect((row.checks as CheckRun).results.length).toBeGreaterThan(0);
    const event = await env.db.auditEvent.findFirstOrThrow({ where: { action: "deploy.gate_blocked", target: SHA } });
    expect(event.details).toMatchObject({ deploymentId: g.deploymentId, allowed: false });
    // The record is in storage too: a restore of Vaultline's own database cannot erase it.
    expect(await env.ctx.storage.head(`backups/test/deployments/${g.deploymentId}.json`)).not.toBeNull();
  });

  it("answers 428 when the newest backup is older than maxAgeMinutes, naming it and its age", async () => {
    const old = await backup(env, "FULL");
    await env.db.backupJob.update({ where: { id: old.id }, data: { completedAt: new Date(Date.now() - 2 * 3600_000 - 60_000) } });
    const g = await gate(env, { commitSha: SHA, maxAgeMinutes: 60 });
    expect(g.allowed).toBe(false);
    expect(g.reasons[0]).toContain(old.id);
    expect(g.reasons[0]).toMatch(/finished 2 h 1 min ago, older than the 60 minutes allowed/);
    expect(g.backup?.id).toBe(old.id);
    // The same backup is fresh enough for a looser gate.
    expect((await gate(env, { commitSha: SHA, maxAgeMinutes: 180 })).allowed).toBe(true);
  });

  it("answers 428 for require FULL when only a QUICK backup is fresh, 200 for ANY", async () => {
    const quick = await backup(env, "QUICK");
    const full = await gate(env, { commitSha: SHA, require: "FULL" });
    expect(full.allowed).toBe(false);
    expect(full.reasons[0]).toMatch(/newest successful FULL backup/);
    const any = await gate(env, { commitSha: SHA, require: "ANY" });
    expect(any.allowed).toBe(true);
    expect(any.backup?.id).toBe(quick.id);
  });

  it("answers 200 with the backup and the checks when a fresh FULL backup exists", async () => {
    const b = await backup(env, "FULL");
    const g = await gate(env, { commitSha: SHA, require: "FULL" });
    const res = gateResponse(g);
    answers.freshFull200 = res;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ allowed: true, backup: { id: b.id, kind: "FULL", status: "SUCCEEDED" } });
    expect(res.body).not.toHaveProperty("error");
    expect(g.checks?.status).toBe("pass");
    expect(byId(g.checks, "drift:target-backup").status).toBe("pass");
    const row = await env.db.deployment.findUniqueOrThrow({ where: { id: g.deploymentId } });
    expect(row).toMatchObject({ status: "ALLOWED", gateDecision: true, backupId: b.id, reasons: [] });
    expect(await env.db.auditEvent.count({ where: { action: "deploy.gate_allowed" } })).toBeGreaterThan(0);
  });

  it("answers 428 when an integrity rule fails, and a rule configured as a warning does not block", async () => {
    const file = path.join(tmp, "checks.json");
    await writeFile(
      file,
      JSON.stringify({
        integrity: [
          { name: "customers-without-name", sql: "SELECT id, email FROM customers WHERE name IS NULL OR name = ''" },
          { name: "big-invoices", sql: "SELECT id FROM invoices WHERE amount > 1000", severity: "warn" },
        ],
      }),
    );
    env.ctx.checksFile = file;
    try {
      await sql(env.targetUrl, "UPDATE customers SET name = NULL WHERE id IN (4, 5, 6)");
      const blocked = await gate(env, { commitSha: SHA });
      answers.integrity428 = gateResponse(blocked);
      expect(blocked.allowed).toBe(false);
      expect(blocked.reasons).toHaveLength(1);
      expect(blocked.reasons[0]).toMatch(/^Check "customers-without-name" failed: /);
      expect(byId(blocked.checks, "integrity:customers-without-name")).toMatchObject({ status: "fail", details: { count: 3 } });
      expect(byId(blocked.checks, "integrity:big-invoices").status).toBe("warn");

      await sql(env.targetUrl, "UPDATE customers SET name = 'fixed' WHERE name IS NULL");
      const allowed = await gate(env, { commitSha: SHA });
      expect(allowed.allowed).toBe(true);
      expect(allowed.checks?.status).toBe("warn");
    } finally {
      env.ctx.checksFile = undefined;
    }
  });

  it("with createIfMissing queues a PRE_DEPLOY backup of the commit, waits for it and answers 200", async () => {
    const fresh = await makeEnv({ seed: true });
    const worker = await startWorker(fresh.ctx, { sweepIntervalMs: 60_000 });
    try {
      const started = Date.now();
      const g = await gate(fresh, { commitSha: "ABCDEF0123", createIfMissing: true, waitSeconds: 60 });
      answers.createIfMissing200 = gateResponse(g);
      expect(g.reasons).toEqual([]);
      expect(g.allowed).toBe(true);
      expect(g.backup).toMatchObject({ kind: "QUICK", trigger: "PRE_DEPLOY", status: "SUCCEEDED", commitSha: "abcdef0123" });
      expect(g.pendingBackupId).toBe(g.backup!.id);
      expect(Date.now() - started).toBeLessThan(60_000);

      // require FULL queues a FULL one; without waiting the answer is 428 naming it.
      const queued = await gate(fresh, { commitSha: "abcdef0123", require: "FULL", createIfMissing: true });
      expect(queued.allowed).toBe(false);
      const job = await fresh.db.backupJob.findUniqueOrThrow({ where: { id: queued.pendingBackupId! } });
      expect(job).toMatchObject({ kind: "FULL", trigger: "PRE_DEPLOY", commitSha: "abcdef0123" });
      expect(queued.reasons.join(" ")).toContain(job.id);
      expect(queued.reasons.join(" ")).toMatch(/waitSeconds/);
      await waitFor(async () => (await fresh.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).status === "SUCCEEDED");
      expect((await gate(fresh, { commitSha: "abcdef0123", require: "FULL" })).allowed).toBe(true);
    } finally {
      await worker.stop();
      await cleanup(fresh);
    }
  });

  it("lists decisions newest first with their backups, and links a reported deploy to its gate decision", async () => {
    const allowedGate = await env.db.deployment.findFirstOrThrow({ where: { commitSha: SHA, status: "ALLOWED" }, orderBy: { at: "desc" } });
    const rec = await recordDeployment(env.ctx, { commitSha: SHA, status: "SUCCEEDED", url: "https://app.example.com" }, who);
    expect(rec).toMatchObject({ type: "record", gateDecision: true, status: "SUCCEEDED", url: "https://app.example.com" });
    // The backup shown is the one the newest ALLOWED gate decision for the commit relied on.
    expect(allowedGate.backupId).not.toBeNull();
    expect(rec.backup).toMatchObject({ id: allowedGate.backupId, status: "SUCCEEDED" });
    const list = await listDeployments(env.ctx, { limit: 3, offset: 0 });
    expect(list.total).toBeGreaterThan(5);
    expect(list.deployments).toHaveLength(3);
    expect(list.deployments[0].id).toBe(rec.id);
    expect(list.deployments[1].type).toBe("gate");
    const times = list.deployments.map((d) => d.at);
    expect([...times].sort().reverse()).toEqual(times);
    const unknown = await recordDeployment(env.ctx, { commitSha: "fedcba9", status: "SUCCEEDED" }, who);
    expect(unknown).toMatchObject({ gateDecision: false, backupId: null });
    expect(unknown.reasons[0]).toMatch(/No ALLOWED gate decision/);
  });
});

const startReceiver = (status: number) =>
  startHookReceiver(undefined, { path: "/hooks/deploy/secret-path", status, okBody: "deployed by receiver", errorBody: "receiver says no" });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("deploy and rollback hooks", () => {
  let env: TestEnv;
  let quick: Awaited<ReturnType<typeof backup>>;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    quick = await backup(env, "QUICK", "1111111aaaaaaa");
  });
  afterAll(() => cleanup(env));

  it("runs DEPLOY_COMMAND with VAULTLINE_COMMIT and records its output", async () => {
    const file = path.join(tmp, "deployed-commit");
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: `echo "deploying $VAULTLINE_COMMIT"; printf %s "$VAULTLINE_COMMIT" > ${file}; echo done >&2` }));
    expect(r.gate.allowed).toBe(true);
    expect(r.hook).toBe("command");
    expect(await r.done).toBe("SUCCEEDED");
    expect(await readFile(file, "utf8")).toBe(SHA);
    const d = await getDeployment(env.ctx, r.gate.deploymentId);
    expect(d).toMatchObject({ type: "deploy", status: "SUCCEEDED", commitSha: SHA, gateDecision: true, backupId: quick.id });
    // The gate row it ran from says what it became, in its own column.
    expect(await env.db.deployment.findUniqueOrThrow({ where: { id: d.id }, select: { type: true, rollbackPhase: true } })).toEqual({ type: "DEPLOY", rollbackPhase: null });
    expect(d.completedAt).not.toBeNull();
    expect(d.log).toContain(`deploying ${SHA}`);
    expect(d.log).toContain("done");
    expect(d.log).toMatch(/Deploy succeeded/);
    expect(await env.db.auditEvent.count({ where: { action: { in: ["deploy.started", "deploy.succeeded"] }, target: SHA } })).toBe(2);
  });

  it("a failing command marks the deployment FAILED with its exit status and output", async () => {
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: "echo 'migration 42 failed' >&2; exit 3" }));
    expect(await r.done).toBe("FAILED");
    const d = await getDeployment(env.ctx, r.gate.deploymentId);
    expect(d.status).toBe("FAILED");
    expect(d.log).toContain("migration 42 failed");
    expect(d.reasons[0]).toMatch(/exited with status 3/);
    expect(await env.db.auditEvent.count({ where: { action: "deploy.failed" } })).toBe(1);
  });

  it("kills the whole process group at the timeout", async () => {
    const pidFile = path.join(tmp, "bg.pid");
    const started = Date.now();
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: `sleep 30 & echo $! > ${pidFile}; echo started; wait`, timeoutMs: 1000 }));
    expect(await r.done).toBe("FAILED");
    expect(Date.now() - started).toBeLessThan(10_000);
    const d = await getDeployment(env.ctx, r.gate.deploymentId);
    expect(d.reasons[0]).toMatch(/timed out after 1 s/);
    expect(d.log).toContain("started");
    const pid = Number(await readFile(pidFile, "utf8"));
    await waitFor(async () => !alive(pid), 5000);
  });

  it("answers 409 to a second deploy while one runs", async () => {
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: "sleep 1" }));
    await expect(startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: "true" }))).rejects.toMatchObject({ code: "OPERATION_IN_PROGRESS", status: 409 });
    expect(await r.done).toBe("SUCCEEDED");
  });

  it("caps the log at about 1 MB", async () => {
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ command: "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo tail-marker" }));
    expect(await r.done).toBe("SUCCEEDED");
    const d = await getDeployment(env.ctx, r.gate.deploymentId);
    expect(Buffer.byteLength(d.log!)).toBeLessThan(LOG_CAP_BYTES + 4096);
    expect(Buffer.byteLength(d.log!)).toBeGreaterThan(LOG_CAP_BYTES - 4096);
    expect(d.log).toContain("[log truncated");
    // Once: in the command line the log starts with, never as output past the cap.
    expect(d.log!.split("tail-marker").length - 1).toBe(1);
    expect(d.log).toMatch(/Deploy succeeded/);
  });

  it("POSTs {commitSha, event} to DEPLOY_WEBHOOK_URL on loopback, signed, and fails on a non-2xx answer", async () => {
    const ok = await startReceiver(200);
    const bad = await startReceiver(500);
    try {
      const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ webhookUrl: ok.url, webhookSecret: "hook-secret" }));
      expect(r.hook).toBe("webhook");
      expect(await r.done).toBe("SUCCEEDED");
      expect(ok.hooks).toHaveLength(1);
      expect(ok.hooks[0].payload).toMatchObject({ commitSha: SHA, event: "deploy", deploymentId: r.gate.deploymentId });
      expect(ok.hooks[0].headers["x-vaultline-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
      const d = await getDeployment(env.ctx, r.gate.deploymentId);
      expect(d.log).toContain("webhook answered 200");
      expect(d.log).toContain("deployed by receiver");
      expect(d.log).not.toContain("secret-path");

      const f = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks({ webhookUrl: bad.url }));
      expect(await f.done).toBe("FAILED");
      expect((await getDeployment(env.ctx, f.gate.deploymentId)).reasons[0]).toMatch(/answered 500/);
    } finally {
      await ok.close();
      await bad.close();
    }
  });

  it("without a hook, records the gate decision and runs nothing", async () => {
    const r = await startDeploy(env.ctx, { commitSha: SHA }, who, hooks());
    expect(r).toMatchObject({ hook: null, done: null, gate: { allowed: true } });
    expect((await getDeployment(env.ctx, r.gate.deploymentId)).status).toBe("ALLOWED");
  });

  it("a QUICK rollback runs only ROLLBACK_COMMAND with the backup's commit", async () => {
    const file = path.join(tmp, "rolled-back-commit");
    const h = hooks({}, { command: `echo "rolling back to $VAULTLINE_COMMIT ($VAULTLINE_EVENT)"; printf %s "$VAULTLINE_COMMIT" > ${file}` });
    await expect(startRollback(env.ctx, { backupId: quick.id, confirm: "rollback" }, who, h)).rejects.toMatchObject({ code: "CONFIRMATION_REQUIRED", status: 422 });
    await expect(startRollback(env.ctx, { backupId: quick.id, confirm: "ROLLBACK" }, who, hooks())).rejects.toMatchObject({ status: 409 });
    const r = await startRollback(env.ctx, { backupId: quick.id, confirm: "ROLLBACK" }, who, h);
    expect(r.restoreId).toBeUndefined();
    expect(await r.done).toBe("ROLLED_BACK");
    expect(await readFile(file, "utf8")).toBe("1111111aaaaaaa");
    const d = await getDeployment(env.ctx, r.deploymentId);
    expect(d).toMatchObject({ type: "rollback", status: "ROLLED_BACK", commitSha: "1111111aaaaaaa", backupId: quick.id, rollback: { backupKind: "QUICK", restoreId: null, phase: "done" } });
    expect(await env.db.deployment.findUniqueOrThrow({ where: { id: r.deploymentId }, select: { type: true, rollbackPhase: true, rollbackBackupKind: true, checks: true } })).toEqual({
      type: "ROLLBACK",
      rollbackPhase: "DONE",
      rollbackBackupKind: "QUICK",
      checks: null,
    });
    expect(d.log).toContain("rolling back to 1111111aaaaaaa (rollback)");
    expect(await env.db.restoreJob.count()).toBe(0);
  });
});

describe("rollback to a FULL backup", () => {
  let env: TestEnv;
  let stopWatcher: () => Promise<void>;
  const file = path.join(tmp, "rollback-full-commit");
  const h = hooks({}, { command: `printf %s "$VAULTLINE_COMMIT" > ${file}; echo "code is now $VAULTLINE_COMMIT"` });
  beforeAll(async () => {
    env = await makeEnv();
    stopWatcher = startDeployWatcher(env.ctx, h, { sweepIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await stopWatcher();
    await cleanup(env);
  });

  it("restores the data through the restore path, with its safety backup, then runs the code hook with the backup's commit", async () => {
    const original = await dbState(env.targetUrl);
    const b = await backup(env, "FULL", "feedface0001");
    await sql(env.targetUrl, "UPDATE customers SET name = 'broken by deploy' WHERE id <= 50; DELETE FROM invoices WHERE id > 100; CREATE TABLE bad_idea (x int)");
    expect(await dbState(env.targetUrl)).not.toEqual(original);

    for (const word of [undefined, "", "rollback", "ROLLBACK ", "RESTORE"]) {
      await expect(startRollback(env.ctx, { backupId: b.id, confirm: word }, who, h)).rejects.toMatchObject({ code: "CONFIRMATION_REQUIRED", status: 422 });
    }
    const r = await startRollback(env.ctx, { backupId: b.id, confirm: "ROLLBACK" }, who, h);
    expect(await env.db.restoreJob.findUniqueOrThrow({ where: { id: r.restoreId! } })).toMatchObject({ status: "QUEUED", backupId: b.id });
    expect(await env.db.backupJob.findUniqueOrThrow({ where: { id: r.preRestoreBackupId! } })).toMatchObject({ trigger: "PRE_RESTORE" });
    // One destructive operation at a time.
    await expect(startRollback(env.ctx, { backupId: b.id, confirm: "ROLLBACK" }, who, h)).rejects.toMatchObject({ status: 409 });
    expect((await getDeployment(env.ctx, r.deploymentId)).status).toBe("RUNNING");

    expect(await runRestore(env.ctx, r.restoreId!)).toBe("SUCCEEDED");
    const d = await waitFor(async () => {
      const x = await getDeployment(env.ctx, r.deploymentId);
      return x.status !== "RUNNING" && x;
    }, 30_000);

    expect(await dbState(env.targetUrl)).toEqual(original);
    expect(d).toMatchObject({
      type: "rollback",
      status: "ROLLED_BACK",
      commitSha: "feedface0001",
      rollback: { backupId: b.id, backupKind: "FULL", restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId },
    });
    expect(await readFile(file, "utf8")).toBe("feedface0001");
    const safety = await env.db.backupJob.findUniqueOrThrow({ where: { id: r.preRestoreBackupId } });
    expect(safety).toMatchObject({ status: "SUCCEEDED", trigger: "PRE_RESTORE", kind: "FULL" });
    expect(d.log).toContain(`safety backup ${r.preRestoreBackupId}`);
    expect(d.log).toContain(`Database restored from backup ${b.id}`);
    expect(d.log).toContain("code is now feedface0001");
    expect(d.log).toMatch(/Rollback complete/);
    expect(d.checks?.status).toBe("pass");
    // The rollback's state is in its columns; checks holds only the restore's check run.
    const row = await env.db.deployment.findUniqueOrThrow({ where: { id: r.deploymentId } });
    expect(row).toMatchObject({ type: "ROLLBACK", rollbackPhase: "DONE", rollbackBackupKind: "FULL", restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId, backupId: b.id });
    expect(row.checks).toMatchObject({ status: "pass", results: expect.any(Array) });
    expect(row.checks).not.toHaveProperty("rollback");
    const actions = (await env.db.auditEvent.findMany({ where: { action: { startsWith: "rollback." } }, orderBy: { at: "asc" } })).map((e) => e.action);
    expect(actions).toEqual(["rollback.restore_requested", "rollback.started", "rollback.database_restored", "rollback.succeeded"]);
    // The restore's checks are now the last run the Checks page shows.
    expect((await latestCheckRun(env.ctx))?.source).toBe("restore");
  });

  it("a failed restore fails the rollback and skips the code hook", async () => {
    const b = await backup(env, "FULL", "feedface0002");
    await env.ctx.storage.putBytes(b.storageKey!, Buffer.from("not an archive"));
    await rm(file, { force: true });
    const r = await startRollback(env.ctx, { backupId: b.id, confirm: "ROLLBACK" }, who, h);
    expect(await runRestore(env.ctx, r.restoreId!)).toBe("FAILED");
    const d = await waitFor(async () => {
      const x = await getDeployment(env.ctx, r.deploymentId);
      return x.status !== "RUNNING" && x;
    }, 30_000);
    expect(d.status).toBe("FAILED");
    expect(d.reasons[0]).toMatch(/Database restore failed/);
    expect(d.log).toContain("The code hook did not run");
    expect(existsSync(file)).toBe(false);
  });
});

describe("rollback of Vaultline's own database", () => {
  it("keeps the rollback record through the restore that replaces the Deployment table", async () => {
    const env = await makeEnv({ targetIsApp: true });
    const file = path.join(tmp, "own-db-commit");
    const h = hooks({}, { command: `printf %s "$VAULTLINE_COMMIT" > ${file}` });
    const stop = startDeployWatcher(env.ctx, h, { sweepIntervalMs: 60_000 });
    try {
      const b = await backup(env, "FULL", "0a0a0a0a0a");
      await sql(env.targetUrl, "DELETE FROM invoices WHERE id > 10");
      const r = await startRollback(env.ctx, { backupId: b.id, confirm: "ROLLBACK" }, who, h);
      const status = await runRestore(env.ctx, r.restoreId!);
      const job = await env.db.restoreJob.findUnique({ where: { id: r.restoreId! } });
      expect({ status, reason: job?.failureReason ?? null }).toEqual({ status: "SUCCEEDED", reason: null });
      const d = await waitFor(async () => {
        const x = await env.db.deployment.findUnique({ where: { id: r.deploymentId } });
        return x && x.status !== "RUNNING" && x;
      }, 30_000);
      expect(d.status).toBe("ROLLED_BACK");
      expect(await readFile(file, "utf8")).toBe("0a0a0a0a0a");
      expect((await sql<{ n: string }>(env.targetUrl, "SELECT count(*)::text AS n FROM invoices"))[0].n).toBe("4000");
    } finally {
      await stop();
      await cleanup(env);
    }
  });
});

describe("checks through the stored run", () => {
  const PRISMA = `CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
    logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0)`;
  const applied = (id: string, name: string) =>
    `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('${id}', 'sum-${name}', now(), '${name}', 1)`;

  it("drift names the migration applied since the newest backup and the one missing from the target", async () => {
    const env = await makeEnv();
    try {
      await sql(env.targetUrl, `${PRISMA}; ${applied("a", "20260101_init")}; ${applied("b", "20260102_slugs")}`);
      await backup(env, "QUICK");
      await sql(env.targetUrl, `DELETE FROM "_prisma_migrations" WHERE id = 'b'; ${applied("c", "20260103_hotfix_on_prod")}`);

      const stored = await runAndStoreChecks(env.ctx, "manual", SYSTEM);
      const last = await latestCheckRun(env.ctx);
      expect(last).toEqual(stored);
      expect(last?.source).toBe("manual");
      const drift = byId(last!.run, "drift:target-backup");
      expect(drift.status).toBe("fail");
      expect(drift.details).toMatchObject({ appliedSinceBackup: ["20260103_hotfix_on_prod"], missingFromTarget: ["20260102_slugs"] });
      expect(await env.db.auditEvent.count({ where: { action: "checks.run" } })).toBe(1);

      const g = await gate(env, { commitSha: SHA });
      expect(g.allowed).toBe(false);
      expect(g.reasons.join("\n")).toMatch(/Check "Target migrations vs. newest backup" failed: .*20260102_slugs/);
      expect((await latestCheckRun(env.ctx))?.source).toBe("gate");
    } finally {
      await cleanup(env);
    }
  });

  it("integrity rules and file sync catch seeded faults (seed 004's null slugs and missing images)", async () => {
    const env = await makeEnv({ seed: false });
    const uploads = path.join(tmp, "uploads");
    await mkdir(path.join(uploads, "ads"), { recursive: true });
    try {
      await sql(
        env.targetUrl,
        `CREATE TABLE ads (id serial PRIMARY KEY, title text NOT NULL, slug text);
         CREATE TABLE ad_images (id serial PRIMARY KEY, ad_id int, file_path text NOT NULL);
         INSERT INTO ads (title, slug) VALUES ('Bike', 'bike-1'), ('Sofa', NULL), ('Lamp', '');
         INSERT INTO ad_images (ad_id, file_path) VALUES (1, 'uploads/ads/bike.webp'), (2, 'uploads/ads/ad-1759979208010-gone.webp')`,
      );
      await writeFile(path.join(uploads, "ads", "bike.webp"), "img");
      await writeFile(path.join(uploads, "ads", "orphan.webp"), "img");
      const checksFile = path.join(tmp, "checks.yaml");
      await writeFile(
        checksFile,
        [
          "integrity:",
          "  - name: ads-without-slug",
          "    sql: SELECT id, title FROM ads WHERE slug IS NULL OR slug = ''",
          "fileSync:",
          "  - name: ad-images",
          "    table: ad_images",
          "    column: file_path",
          "    dir: uploads",
          "    prefix: uploads/",
        ].join("\n"),
      );
      env.ctx.checksFile = checksFile;
      await backup(env, "QUICK");

      const { run } = await runAndStoreChecks(env.ctx, "manual", SYSTEM);
      expect(run.status).toBe("fail");
      expect(byId(run, "integrity:ads-without-slug")).toMatchObject({ status: "fail", details: { count: 2 } });
      const files = byId(run, "files:ad-images");
      expect(files.status).toBe("fail");
      expect(files.details).toMatchObject({ missing: ["uploads/ads/ad-1759979208010-gone.webp"], orphans: ["ads/orphan.webp"] });
      const state = await deployState(env.ctx, hooks(), { maxAgeMinutes: 60, require: "ANY" });
      expect(state.gate.allowed).toBe(false);
      expect(state.gate.checksStatus).toBe("fail");
      expect(state.gate.reasons.some((r) => r.includes("ads-without-slug"))).toBe(true);
    } finally {
      await cleanup(env);
    }
  });
});
