// Extra targets for e2e specs: databases on the e2e PostgreSQL server, added through the API
// as an ADMIN would (POST /api/targets), so the connection test and the encryption run.
import { expect, type APIRequestContext, type Browser } from "@playwright/test";
import { E2E } from "./env";
import { dbUrl, sql } from "./helpers";

/** The e2e server's URL for another database on it. */
export function urlOf(database: string): string {
  const u = new URL(dbUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

/** Adds a target for `database`; its id. The answer never carries the URL or its password. */
export async function createTarget(req: APIRequestContext, name: string, environment: string, database: string): Promise<string> {
  const res = await req.post("/api/targets", { headers: E2E.sameOrigin, data: { name, environment, databaseUrl: urlOf(database) } });
  expect(res.status(), await res.text()).toBe(201);
  const body = await res.json();
  expect(JSON.stringify(body)).not.toContain(new URL(dbUrl()).password);
  return body.id ?? body.target?.id;
}

/** Runs fn with an ADMIN's request context (the stored sign-in), closed after. */
export async function asAdmin<T>(browser: Browser, fn: (req: APIRequestContext) => Promise<T>): Promise<T> {
  const ctx = await browser.newContext({ storageState: E2E.adminState, baseURL: E2E.baseURL });
  try {
    return await fn(ctx.request);
  } finally {
    await ctx.close();
  }
}

/** Removes a target made for a spec (its backups with it) and its database. */
export async function removeTargetAndDatabase(browser: Browser, targetId: string, database: string): Promise<void> {
  if (targetId) await asAdmin(browser, (req) => req.delete(`/api/targets/${targetId}?force=true`, { headers: E2E.sameOrigin }));
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
}
