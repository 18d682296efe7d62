// One embedded PostgreSQL 15 for the integration project's whole run, in a temp dir. Each
// test file creates its own databases on it (tests/support/vitest-env.ts), so files can run
// in parallel.
import type { TestProject } from "vitest/node";
import { startPg } from "./support/pg";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const pg = await startPg({ label: "test" });
  project.provide("pgAdminUrl", pg.adminUrl);
  return () => pg.stop();
}
