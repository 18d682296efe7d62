// Objects only a superuser may create (event triggers, foreign-data wrappers, access methods,
// languages, C and internal functions, casts between built-in types…) are recorded in the
// manifest's catalogue at backup time, so a preview through a role that is not a superuser
// names them and says the restore will fail on them — before anyone confirms it — instead of
// the restore finding out at apply time. Through a superuser, nothing is said.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { asAppRole, buildAppDatabase } from "./support/app-fixture";
import { buildExoticDatabase } from "./support/exotic-fixture";
import { previewRestore } from "../lib/backup/preview";
import { readManifest } from "../lib/backup/verify";
import { manifestCatalog } from "../lib/backup/catalog-snapshot";
import { stopBosses } from "../lib/queue";

const exec = (url: string, text: string) => sql(url, text);
const fingerprint = (url: string) => catalogFingerprint(sql, url);

afterAll(async () => {
  await stopBosses();
});

describe("a backup holding objects only a superuser may create", () => {
  let env: TestEnv;
  let backupId: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place" } });
    await buildExoticDatabase(exec, adminUrl(), env.targetUrl);
    // Kinds the exotic fixture does not have.
    await sql(
      env.targetUrl,
      `CREATE OPERATOR CLASS public.int4_reverse_ops FOR TYPE int4 USING btree AS OPERATOR 1 >, OPERATOR 3 =, OPERATOR 5 <, FUNCTION 1 btint4cmp(int4, int4);
       CREATE PUBLICATION everything FOR ALL TABLES;
       CREATE TEXT SEARCH PARSER lab.words (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype);
       CREATE TEXT SEARCH TEMPLATE lab.plain_words (INIT = dsimple_init, LEXIZE = dsimple_lexize);`,
    );
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("records them, by kind and name, in the manifest's catalogue — and nothing an extension or a trusted language made", async () => {
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    expect(manifestCatalog(await readManifest(env.ctx, job))?.superuserOnly).toEqual([
      "access method exotic_heap",
      "cast (bytea AS uuid)",
      "event trigger exotic_guard",
      "foreign-data wrapper exotic_fdw",
      "function public.exotic_pl_call() in c",
      "function public.mood_from_sql(internal) in internal",
      "function public.mood_to_sql(internal) in internal",
      "language exotic_pl",
      "operator class public.int4_reverse_ops",
      "publication everything (for all tables)",
      "text search parser lab.words",
      "text search template lab.plain_words",
    ]);
  });

  it("a superuser's preview says nothing of them", async () => {
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.needsSuperuser).toBeNull();
    expect(preview.warnings.join("\n")).not.toContain("only a superuser");
  });

  it("through the app's own role the preview names them and says the restore will fail; it does, and changes nothing", async () => {
    const asApp = { ...env.ctx, targetUrl: asAppRole(env.targetUrl) };
    const preview = await previewRestore(asApp, backupId);
    expect(preview.plan?.needsSuperuser?.user).toBe("vl_app");
    expect(preview.plan?.needsSuperuser?.objects).toHaveLength(12);
    const warning = preview.warnings.find((w) => w.includes("only a superuser"));
    expect(warning).toBe(
      "The backup holds 12 objects only a superuser may create (access method exotic_heap, cast (bytea AS uuid), event trigger exotic_guard, foreign-data wrapper exotic_fdw, function public.exotic_pl_call() in c, and 7 more), and Vaultline connects to this target as vl_app, which is not a superuser: the restore will fail on the first of them and change nothing. Restore through a superuser's connection to this target.",
    );

    const before = await fingerprint(env.targetUrl);
    const { status, row } = await restore({ ...env, ctx: asApp }, backupId, "reassign");
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(/must be (superuser|owner)|permission denied/);
    expect(await fingerprint(env.targetUrl)).toEqual(before);
  });
});

describe("a backup of an everyday application database", () => {
  let env: TestEnv;
  let backupId: string;
  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place" } });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("records none (pgcrypto and citext are trusted extensions), and its app role's preview warns of none", async () => {
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    expect(manifestCatalog(await readManifest(env.ctx, job))?.superuserOnly).toEqual([]);
    const preview = await previewRestore({ ...env.ctx, targetUrl: asAppRole(env.targetUrl) }, backupId);
    expect(preview.plan?.needsSuperuser).toEqual({ user: "vl_app", objects: [] });
    expect(preview.warnings.join("\n")).not.toContain("only a superuser");
  });
});
