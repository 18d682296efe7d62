// Autovacuum is held off a fresh copy's tables while it is restored, and released to exactly
// the storage options the backup recorded (decision 119).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { adminUrl, createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { holdAutovacuum } from "../lib/backup/autovacuum-hold";

let url: string;
const role = `avhold_${randomBytes(4).toString("hex")}`;

const options = async () =>
  Object.fromEntries(
    (
      await sql<{ name: string; opts: string | null; toast: string | null }>(
        url,
        `SELECT n.nspname || '.' || c.relname AS name, c.reloptions::text AS opts, t.reloptions::text AS toast
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
          WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname IN ('public', 'app')`,
      )
    ).map((r) => [r.name, `${r.opts ?? "-"} toast:${r.toast ?? "-"}`]),
  );

beforeAll(async () => {
  url = await createDatabase("avhold");
  await sql(adminUrl(), `CREATE ROLE ${role} NOLOGIN`);
  await sql(
    url,
    `CREATE SCHEMA app;
     CREATE TABLE app.plain (id int PRIMARY KEY, body text);
     CREATE TABLE app.tuned (id int) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05);
     CREATE TABLE app.own_choice (id int) WITH (autovacuum_enabled = true);
     CREATE TABLE app.toasted (id int, body text) WITH (toast.autovacuum_enabled = false);
     CREATE TABLE app.events (at date NOT NULL) PARTITION BY RANGE (at);
     CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
     CREATE MATERIALIZED VIEW app.summary AS SELECT count(*) AS n FROM app.plain;
     CREATE TABLE "odd ""name" (id int);
     CREATE TABLE app.not_mine (id int);`,
  );
});

afterAll(async () => {
  await dropDatabase(url);
  await sql(adminUrl(), `DROP ROLE IF EXISTS ${role}`);
});

describe("holdAutovacuum", () => {
  it("turns autovacuum off where the backup did not choose, and puts every option back as it was", async () => {
    const before = await options();
    const hold = await holdAutovacuum(url);
    expect(hold.held.sort()).toEqual(['app.events_2026', 'app.not_mine', 'app.plain', 'app.summary', 'app.toasted', 'app.tuned', 'public."odd ""name"'].sort());
    const during = await options();
    expect(during["app.plain"]).toBe("{autovacuum_enabled=false} toast:-");
    expect(during["app.tuned"]).toBe("{fillfactor=70,autovacuum_vacuum_scale_factor=0.05,autovacuum_enabled=false} toast:-");
    expect(during["app.toasted"]).toBe("{autovacuum_enabled=false} toast:{autovacuum_enabled=false}");
    expect(during["app.summary"]).toBe("{autovacuum_enabled=false} toast:-");
    // Its own setting, and the partitioned parent (autovacuum never visits it), are left alone.
    expect(during["app.own_choice"]).toBe(before["app.own_choice"]);
    expect(during["app.events"]).toBe(before["app.events"]);
    await hold.release();
    expect(await options()).toEqual(before);
    await hold.release(); // twice is harmless
    expect(await options()).toEqual(before);
  });

  it("holds only what the connecting role may alter", async () => {
    await sql(url, `ALTER TABLE app.not_mine OWNER TO ${role}`);
    const u = new URL(url);
    const login = `avlogin_${randomBytes(4).toString("hex")}`;
    await sql(adminUrl(), `CREATE ROLE ${login} LOGIN PASSWORD 'pw-${login}'`);
    try {
      await sql(url, `GRANT USAGE ON SCHEMA app TO ${login}; ALTER TABLE app.plain OWNER TO ${login}`);
      u.username = login;
      u.password = `pw-${login}`;
      const before = await options();
      const hold = await holdAutovacuum(u.toString());
      expect(hold.held).toEqual(["app.plain"]);
      await hold.release();
      expect(await options()).toEqual(before);
    } finally {
      await sql(url, `ALTER TABLE app.plain OWNER TO CURRENT_USER; REVOKE USAGE ON SCHEMA app FROM ${login}`);
      await sql(adminUrl(), `DROP ROLE ${login}`);
    }
  });
});
