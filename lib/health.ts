// GET /api/health: "ok", "degraded" (works but needs attention) or "down" (database
// unreachable). Each check is bounded in time so a hung dependency cannot hang the probe.
import { db, poolOf } from "./db";
import { config } from "./config";
import { describeStatus, migrationStatus } from "./migrate";
import { createSharedResult } from "./shared-result";

import { appContext } from "./backup/context";
import { backupHealthChecks } from "./backup/health-checks";
import type { CheckState, HealthCheck } from "./health-check";

export type { CheckState, HealthCheck };
export interface Health {
  status: CheckState;
  checks: Record<string, HealthCheck>;
}

type Probe = () => Promise<HealthCheck>;

/** Every check beyond the database and its migrations, listed here (no registration). */
function probes(): [string, Probe][] {
  return Object.entries(backupHealthChecks(appContext(), config().STORAGE_WARN_BYTES));
}

function withTimeout(p: Promise<HealthCheck>, ms: number): Promise<HealthCheck> {
  return Promise.race([
    p,
    new Promise<HealthCheck>((resolve) => setTimeout(() => resolve({ status: "degraded", message: `no answer in ${ms} ms` }), ms)),
  ]);
}

/**
 * The checks beyond the database (migrations, storage, pg_dump, last backup, storage usage)
 * cost a process spawn, a connection to the target and a pass over the catalogue. A load
 * balancer or every open dashboard may ask many times a second, so they run at most once
 * per CHECKS_TTL_MS: concurrent callers share the run in flight, and a caller after the TTL
 * gets the previous result while a new run starts (never older than a minute).
 * The database check stays live on every call: it is what says "down".
 */
export const CHECKS_TTL_MS = 5_000;

async function runChecks(): Promise<Record<string, HealthCheck>> {
  const checks: Record<string, HealthCheck> = {};
  const problem = describeStatus(await migrationStatus(config().databaseUrl));
  checks.migrations = problem ? { status: "degraded", message: problem } : { status: "ok" };
  const extra = await Promise.all(
    probes().map(async ([name, probe]) => {
      try {
        return [name, await withTimeout(probe(), 5000)] as const;
      } catch (e) {
        return [name, { status: "degraded" as const, message: (e as Error).message }] as const;
      }
    }),
  );
  for (const [name, c] of extra) checks[name] = c;
  return checks;
}

const otherChecks = createSharedResult(runChecks, { ttlMs: CHECKS_TTL_MS, maxAgeMs: 60_000 });

/** Forgets the shared result (tests, and a caller that must see a change at once). */
export function resetHealthCache(): void {
  otherChecks.reset();
}

export async function health(): Promise<Health> {
  const checks: Record<string, HealthCheck> = {};
  try {
    await withTimeout(
      // On the pg pool under the client: the same connections without Prisma's cost (decision 105).
      poolOf(db()).query("SELECT 1").then(() => ({ status: "ok" as const })),
      3000,
    ).then((c) => {
      if (c.status !== "ok") throw new Error(c.message);
    });
    checks.database = { status: "ok" };
  } catch (e) {
    checks.database = { status: "down", message: `database unreachable: ${(e as Error).message.split("\n")[0]}` };
    return { status: "down", checks };
  }
  Object.assign(checks, await otherChecks.get());
  const status = Object.values(checks).some((c) => c.status !== "ok") ? "degraded" : "ok";
  return { status, checks };
}

/** What an anonymous caller (a load balancer) sees: the state and which checks fail. */
export function publicHealth(h: Health): { status: CheckState; checks: Record<string, "ok" | "failing"> } {
  return {
    status: h.status,
    checks: Object.fromEntries(Object.entries(h.checks).map(([n, c]) => [n, c.status === "ok" ? "ok" : "failing"])),
  };
}
