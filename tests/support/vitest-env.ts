// The support tree as a Vitest file uses it: databases on the embedded server that
// tests/global-setup.ts started for the run (its admin URL comes through inject(), which
// only works inside Vitest — the fault suite and the bench use ./pg directly).
import { inject } from "vitest";
import { pgOn, type PgServer } from "./pg";
import { backupEnv, type EnvOptions, type TestEnv } from "./backup-env";

export { sql } from "./pg";
export { PASSPHRASE } from "./context";
export { seedTarget } from "./seed";
export { listKeys } from "./listing";
export { waitFor } from "./wait";
export type { TestEnv };
export { cliEnv } from "./backup-env";

export function adminUrl(): string {
  return inject("pgAdminUrl");
}

/** The run's server; a file drops the databases it made. */
export function testPg(): PgServer {
  return pgOn(adminUrl());
}

export const urlFor = (database: string) => testPg().urlFor(database);
export const createDatabase = (prefix = "t") => testPg().createDatabase(prefix);
export const createMigratedDatabase = (prefix = "app") => testPg().createMigratedDatabase(prefix);
export const dropDatabase = (url: string) => testPg().dropDatabase(url);

/** A backup context on the run's server (see backup-env.ts). */
export const makeEnv = (opts: EnvOptions = {}) => backupEnv(testPg(), opts);
