// A database made by the release before 20261201030000_honest_data_model upgrades with its
// history intact: rows written the way that release wrote them (a rollback's state inside
// Deployment.checks, runtime state as "state.*" rows of Setting) come out in the new
// columns and table, and the API answers what it answered before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../lib/migrate";
import { createDb, type Db } from "../lib/db";
import { getDeployment, listDeployments, legacyRecordColumns, type DeploymentRecord } from "../lib/deploy/deployments";
import { getSettings } from "../lib/settings";
import { latestCheckRun } from "../lib/deploy/checks-store";
import { scheduleStateSince } from "../lib/backup/schedule";

const UPGRADE = "20261201030000_honest_data_model";
const run = { status: "pass", startedAt: "2026-11-30T10:00:00.000Z", finishedAt: "2026-11-30T10:00:01.000Z", results: [] };
const restoreRun = { ...run, startedAt: "2026-11-30T11:00:00.000Z", finishedAt: "2026-11-30T11:00:02.000Z" };

let url: string;
let db: Db;
let before: string;

/** Inserts a Deployment row as the release before the upgrade wrote it (no type column). */
async function oldDeployment(id: string, row: { status: string; checks?: unknown; log?: string; backupId?: string | null; gateDecision?: boolean }) {
  await sql(
    url,
    `INSERT INTO "Deployment" (id, "commitSha", "gateDecision", reasons, checks, "backupId", status, log, at)
     VALUES ($1, 'abc1234', $2, '{}', $3, $4, $5, $6, now())`,
    [id, row.gateDecision ?? true, row.checks === undefined ? null : JSON.stringify(row.checks), row.backupId ?? null, row.status, row.log ?? ""],
  );
}

beforeAll(async () => {
  url = await createDatabase("upgrade");
  // The migrations folder as it was before the upgrade.
  before = mkdtempSync(path.join(tmpdir(), "vaultline-mig-"));
  const names = readMigrations().map((m) => m.name);
  expect(names).toContain(UPGRADE);
  for (const name of names.slice(0, names.indexOf(UPGRADE))) cpSync(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
  cpSync(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
  await migrate(url, before);

  await sql(
    url,
    `INSERT INTO "Setting" (key, value, version, "updatedBy", "updatedAt") VALUES
       ('retention', '{"days": 14, "keepLast": 5, "keepQuick": 3}', 2, 'alice', now()),
       ('state.schedule', '{"since": "2026-11-01T00:00:00.000Z"}', 1, 'system', now()),
       ('state.missedAlert', '{"lastAlertAt": "2026-11-20T00:00:00.000Z", "lastSuccessAt": null, "hours": 26}', 1, 'system', now()),
       ('state.checks', $1, 3, 'alice', now())`,
    [JSON.stringify({ run, source: "manual", by: "alice" })],
  );
  await oldDeployment("d_gate_allowed", { status: "ALLOWED", checks: run, backupId: "b_full" });
  await oldDeployment("d_gate_blocked", { status: "BLOCKED", checks: null, gateDecision: false });
  await oldDeployment("d_deploy", { status: "SUCCEEDED", checks: run, log: "[t] Deploying abc1234\n", backupId: "b_full" });
  // A gate whose checks could not run, then deployed: today's main called it a "record".
  await oldDeployment("d_deploy_nochecks", { status: "FAILED", checks: null, log: "[t] Deploying abc1234\n" });
  await oldDeployment("d_record", { status: "SUCCEEDED", checks: null, backupId: "b_full" });
  await oldDeployment("d_rb_full", {
    status: "ROLLED_BACK",
    backupId: "b_full",
    log: "[t] Rollback\n",
    checks: { rollback: { backupId: "b_full", backupKind: "FULL", restoreId: "r_1", preRestoreBackupId: "b_safety", phase: "done" }, run: restoreRun },
  });
  await oldDeployment("d_rb_restoring", {
    status: "RUNNING",
    backupId: "b_full",
    checks: { rollback: { backupId: "b_full", backupKind: "FULL", restoreId: "r_2", preRestoreBackupId: "b_safety2", phase: "restoring" } },
  });
  await oldDeployment("d_rb_quick", {
    status: "FAILED",
    backupId: "b_quick",
    checks: { rollback: { backupId: "b_quick", backupKind: "QUICK", restoreId: null, preRestoreBackupId: null, phase: "done" } },
  });

  // The upgrade first, then whatever later migrations there are.
  const applied = await migrate(url);
  expect(applied[0]).toBe(UPGRADE);
  expect(applied).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name).filter((n) => n >= UPGRADE));
  db = createDb(url);
});

afterAll(async () => {
  await db?.$disconnect();
  await dropDatabase(url);
  rmSync(before, { recursive: true, force: true });
});

describe(`upgrade through ${UPGRADE}`, () => {
  it("gives every deployment its type and moves a rollback's state out of checks into columns", async () => {
    const rows = await sql<Record<string, unknown>>(
      url,
      `SELECT id, type::text, "rollbackPhase"::text AS phase, "rollbackBackupKind"::text AS kind, "restoreId", "preRestoreBackupId", "backupId", checks
         FROM "Deployment" ORDER BY id`,
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id as string, r]));
    const plain = { phase: null, kind: null, restoreId: null, preRestoreBackupId: null };
    expect(byId.d_gate_allowed).toMatchObject({ type: "GATE", ...plain, checks: run });
    expect(byId.d_gate_blocked).toMatchObject({ type: "GATE", ...plain, checks: null });
    expect(byId.d_deploy).toMatchObject({ type: "DEPLOY", ...plain, checks: run });
    expect(byId.d_deploy_nochecks).toMatchObject({ type: "DEPLOY", ...plain });
    expect(byId.d_record).toMatchObject({ type: "RECORD", ...plain, checks: null });
    expect(byId.d_rb_full).toMatchObject({ type: "ROLLBACK", phase: "DONE", kind: "FULL", restoreId: "r_1", preRestoreBackupId: "b_safety", backupId: "b_full", checks: restoreRun });
    expect(byId.d_rb_restoring).toMatchObject({ type: "ROLLBACK", phase: "RESTORING", kind: "FULL", restoreId: "r_2", preRestoreBackupId: "b_safety2", checks: null });
    expect(byId.d_rb_quick).toMatchObject({ type: "ROLLBACK", phase: "DONE", kind: "QUICK", restoreId: null, preRestoreBackupId: null, checks: null });
    // Nothing of the old shape is left in checks.
    expect(await sql(url, `SELECT id FROM "Deployment" WHERE checks ? 'rollback'`)).toEqual([]);
  });

  it("answers the deployments API in the shape it had before the upgrade", async () => {
    const ctx = { db } as Parameters<typeof getDeployment>[0];
    const full = await getDeployment(ctx, "d_rb_full");
    expect(full).toMatchObject({
      type: "rollback",
      status: "ROLLED_BACK",
      backupId: "b_full",
      checks: restoreRun,
      rollback: { backupId: "b_full", backupKind: "FULL", restoreId: "r_1", preRestoreBackupId: "b_safety", phase: "done" },
    });
    const list = await listDeployments(ctx, { limit: 50, offset: 0 });
    const types = Object.fromEntries(list.deployments.map((d) => [d.id, d.type]));
    expect(types).toEqual({
      d_gate_allowed: "gate",
      d_gate_blocked: "gate",
      d_deploy: "deploy",
      d_deploy_nochecks: "deploy",
      d_record: "record",
      d_rb_full: "rollback",
      d_rb_restoring: "rollback",
      d_rb_quick: "rollback",
    });
    const gate = list.deployments.find((d) => d.id === "d_gate_allowed")!;
    expect(gate).toMatchObject({ checks: run, rollback: null });
  });

  it("moves the state.* rows out of Setting into RuntimeState and leaves the settings alone", async () => {
    expect(await sql(url, `SELECT key, version, "updatedBy" FROM "Setting" ORDER BY key`)).toEqual([{ key: "retention", version: 2, updatedBy: "alice" }]);
    expect(await sql(url, `SELECT key, value, "updatedBy" FROM "RuntimeState" ORDER BY key`)).toEqual([
      { key: "checks", value: { run, source: "manual", by: "alice" }, updatedBy: "alice" },
      { key: "missedAlert", value: { lastAlertAt: "2026-11-20T00:00:00.000Z", lastSuccessAt: null, hours: 26 }, updatedBy: "system" },
      { key: "schedule", value: { since: "2026-11-01T00:00:00.000Z" }, updatedBy: "system" },
    ]);
    // Saved before GFS retention existed: its counts read as 0 (off), so it means what it meant.
    expect((await getSettings(db)).retention).toEqual({ days: 14, keepLast: 5, keepQuick: 3, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 });
    // The readers find what the old release stored.
    expect((await scheduleStateSince({ db }, new Date())).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(await latestCheckRun({ db })).toEqual({ run, source: "manual", by: "alice" });
  });
});

describe("deployment records mirrored to storage before the upgrade", () => {
  const base: DeploymentRecord = {
    id: "d1",
    commitSha: "abc1234",
    environment: "production",
    gateDecision: true,
    reasons: [],
    checks: null,
    backupId: "b_full",
    status: "ROLLED_BACK",
    url: null,
    log: "",
    actorId: null,
    actorLabel: null,
    at: "2026-11-30T10:00:00.000Z",
    completedAt: null,
  };

  it("read into the same columns as the migration gives the table", () => {
    expect(
      legacyRecordColumns({
        ...base,
        checks: { rollback: { backupId: "b_full", backupKind: "FULL", restoreId: "r_1", preRestoreBackupId: "b_s", phase: "done" }, run: restoreRun },
      }),
    ).toEqual({ type: "ROLLBACK", checks: restoreRun, rollbackPhase: "DONE", rollbackBackupKind: "FULL", restoreId: "r_1", preRestoreBackupId: "b_s" });
    expect(legacyRecordColumns({ ...base, status: "BLOCKED" }).type).toBe("GATE");
    expect(legacyRecordColumns({ ...base, status: "SUCCEEDED", checks: run }).type).toBe("DEPLOY");
    expect(legacyRecordColumns({ ...base, status: "FAILED", log: "[t] Deploying\n" }).type).toBe("DEPLOY");
    expect(legacyRecordColumns({ ...base, status: "SUCCEEDED" }).type).toBe("RECORD");
  });

  it("and records written since keep their own columns", () => {
    expect(legacyRecordColumns({ ...base, type: "ROLLBACK", rollbackPhase: "CODE", rollbackBackupKind: "QUICK", restoreId: null, preRestoreBackupId: null })).toEqual({
      type: "ROLLBACK",
      checks: null,
      rollbackPhase: "CODE",
      rollbackBackupKind: "QUICK",
      restoreId: null,
      preRestoreBackupId: null,
    });
  });
});
