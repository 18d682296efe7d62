// One embedded PostgreSQL 15 for the whole Vitest run, in a temp dir. Each test file
// creates its own databases on it (tests/helpers/pg.ts), so files can run in parallel.
import type { TestProject } from "vitest/node";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, startEmbeddedPostgres } from "../lib/embedded-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-test-pg-"));
  // initdb runs as the unprivileged postgres user when we are root.
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres({
    dir: path.join(dir, "data"),
    port: await freePort(),
    password: "test-password",
    persistent: false,
  });
  project.provide("pgAdminUrl", server.url("postgres"));
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
