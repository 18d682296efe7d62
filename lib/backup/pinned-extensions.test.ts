// Extensions a server lets one database have (decision 201): pg_cron, whose install script
// refuses every database but the one cron.database_name names.
import { describe, expect, it } from "vitest";
import { chooseStrategy, type TargetCapabilities } from "./restore-plan";
import { dependentEntries, extensionEntries, leftOutUser, leftOutWith, leftOutWords, pinnedAmong, pinnedElsewhereWords, pinnedSwapProblem } from "./pinned-extensions";

const cron = (database: string | null) => [{ name: "pg_cron", setting: "cron.database_name", database }];

describe("which restores can create pg_cron", () => {
  it("picks the pinned ones among a backup's extensions", () => {
    expect(pinnedAmong(["citext", "pg_cron", "postgis"])).toEqual(["pg_cron"]);
    expect(pinnedAmong(["citext"])).toEqual([]);
  });

  it("the swap's fresh copy cannot, where the server names this database", () => {
    expect(pinnedSwapProblem(cron("shop"), "shop")).toBe("pg_cron can be created only in the database cron.database_name names, shop, not in a fresh copy beside it");
    expect(pinnedSwapProblem(cron("postgres"), "shop")).toBeNull();
    expect(pinnedSwapProblem([], "shop")).toBeNull();
  });

  it("no restore can, where the server names another database or does not load it: said with the setting to change", () => {
    expect(pinnedElsewhereWords(cron("shop"), "shop")).toBeNull();
    expect(pinnedElsewhereWords(cron("postgres"), "shop")).toBe(
      "The backup's database uses pg_cron, which this server lets only the database postgres have (cron.database_name): set cron.database_name = 'shop' and restart PostgreSQL, or restore into postgres",
    );
    expect(pinnedElsewhereWords(cron(null), "it's")).toBe(
      "The backup's database uses pg_cron, which this server does not load: add it to shared_preload_libraries, set cron.database_name = 'it''s', and restart PostgreSQL",
    );
  });

  it("the plan restores in place, saying why, and says when RESTORE_STRATEGY=swap is not honoured", () => {
    const cap = { user: "vaultline", superuser: true, createDb: true, ownsDatabase: true, canSignal: true, tablespaceCreate: true, database: "shop", unsettable: [], pinnedExtensions: cron("shop") } as unknown as TargetCapabilities;
    const reason = "In place, in one transaction, because pg_cron can be created only in the database cron.database_name names, shop, not in a fresh copy beside it.";
    expect(chooseStrategy(cap, { targetIsVaultline: false, setting: "auto", keepHours: 24 })).toEqual({ strategy: "in-place", reason });
    expect(chooseStrategy(cap, { targetIsVaultline: false, setting: "swap", keepHours: 24 })).toEqual({ strategy: "in-place", reason: `${reason} (RESTORE_STRATEGY=swap cannot be honoured.)` });
    expect(chooseStrategy({ ...cap, pinnedExtensions: cron("postgres") }, { targetIsVaultline: false, setting: "auto", keepHours: 24 }).strategy).toBe("swap");
  });
});

describe("what a copy or a drill leaves out", () => {
  // As pg_dump wrote a pg_cron database's table of contents (PostgreSQL 15, pg_cron 1.4): the
  // members' ids (7: schema cron, 217: cron.job …) are not in it, CREATE EXTENSION makes them.
  const toc = [
    { dumpId: 2, desc: "EXTENSION", tag: "pg_cron", namespace: null, deps: [] },
    { dumpId: 3383, desc: "COMMENT", tag: "EXTENSION pg_cron", namespace: null, deps: [2] },
    { dumpId: 3384, desc: "ACL", tag: "SCHEMA cron", namespace: null, deps: [7] },
    { dumpId: 220, desc: "TABLE", tag: "events", namespace: "public", deps: [] },
    { dumpId: 3215, desc: "TABLE DATA", tag: "job", namespace: "cron", deps: [217] },
    { dumpId: 3217, desc: "TABLE DATA", tag: "job_run_details", namespace: "cron", deps: [219] },
    { dumpId: 3376, desc: "TABLE DATA", tag: "events", namespace: "public", deps: [220] },
    { dumpId: 3385, desc: "SEQUENCE SET", tag: "jobid_seq", namespace: "cron", deps: [216] },
    { dumpId: 3377, desc: "TABLE DATA", tag: "spatial_ref_sys", namespace: "public", deps: [300] },
    { dumpId: 3233, desc: "CONSTRAINT", tag: "events events_pkey", namespace: "public", deps: [220] },
    // The application's own, over pg_cron's table: pg_dump points the dependency at the extension.
    { dumpId: 230, desc: "VIEW", tag: "job_failures", namespace: "public", deps: [2] },
    { dumpId: 3390, desc: "COMMENT", tag: "VIEW job_failures", namespace: "public", deps: [230] },
    { dumpId: 231, desc: "VIEW", tag: "job_failures_today", namespace: "public", deps: [230] },
    { dumpId: 3391, desc: "ACL", tag: "TABLE job_failures", namespace: "public", deps: [230] },
    { dumpId: 232, desc: "TABLE", tag: "job_owners", namespace: "ops", deps: [] },
    { dumpId: 3234, desc: "FK CONSTRAINT", tag: "job_owners job_owners_jobid_fkey", namespace: "ops", deps: [232, 2] },
    { dumpId: 233, desc: "FUNCTION", tag: "last_failure(bigint)", namespace: "ops", deps: [2] },
  ];

  it("the extension, its comment, and its members' rows, sequence values and grants; nothing of the application's or another extension's", () => {
    expect(extensionEntries(toc, "pg_cron")).toEqual([2, 3383, 3384, 3215, 3217, 3385]);
    expect(extensionEntries(toc.slice(3), "pg_cron")).toEqual([]);
  });

  it("what uses them, directly or through each other: the view over its table, that view's comment and grant, a view over that view", () => {
    const own = extensionEntries(toc, "pg_cron");
    expect(dependentEntries(toc, own).sort((a, b) => a - b)).toEqual([230, 231, 233, 3234, 3390, 3391]);
    expect(dependentEntries(toc, [])).toEqual([]);
    const users = dependentEntries(toc, own).map((id) => leftOutUser(toc.find((e) => e.dumpId === id)!));
    expect(users.filter(Boolean).map((u) => u!.label).sort()).toEqual([
      "fk constraint ops.job_owners job_owners_jobid_fkey",
      "function ops.last_failure(bigint)",
      "view public.job_failures",
      "view public.job_failures_today",
    ]);
  });

  it("names what it left out as the catalogue record does: a left-out table's own objects with it, a function by its name whatever its arguments", () => {
    const users = [
      leftOutUser({ desc: "TABLE", tag: "job_owners", namespace: "ops" })!,
      leftOutUser({ desc: "FUNCTION", tag: "last_failure(bigint)", namespace: "ops" })!,
      leftOutUser({ desc: "CONSTRAINT", tag: "events events_check", namespace: "public" })!,
    ];
    expect(leftOutWith([], "tables", "ops.job_owners", users)).toBe(true);
    expect(leftOutWith([], "constraints", "ops.job_owners.job_owners_pkey", users)).toBe(true);
    expect(leftOutWith([], "policies", "ops.job_owners.mine", users)).toBe(true);
    expect(leftOutWith([], "tables", "ops.job_owners_archive", users)).toBe(false);
    expect(leftOutWith([], "functions", "ops.last_failure(job bigint)", users)).toBe(true);
    expect(leftOutWith([], "functions", "ops.last_failures(job bigint)", users)).toBe(false);
    expect(leftOutWith([], "constraints", "public.events.events_check", users)).toBe(true);
    expect(leftOutWith([], "constraints", "public.events.events_pkey", users)).toBe(false);
    expect(leftOutUser({ desc: "ACL", tag: "TABLE job_owners", namespace: "ops" })).toBeNull();
    // Said once: the table, not its constraint too.
    expect(leftOutWords(["pg_cron"], "copy", [users[0], leftOutUser({ desc: "FK CONSTRAINT", tag: "job_owners job_owners_jobid_fkey", namespace: "ops" })!])).toBe(
      "An extension the copy, a database of another name, cannot have is left out with its jobs and settings: pg_cron (its setting cron.database_name names the one database that may have it), and with it what of the database uses it: table ops.job_owners; every other object and row is restored",
    );
  });

  it("the catalogue record's objects a copy without it lacks", () => {
    expect(leftOutWith(["pg_cron"], "extensions", "pg_cron")).toBe(true);
    expect(leftOutWith(["pg_cron"], "indexes", "cron.job_pkey")).toBe(true);
    expect(leftOutWith(["pg_cron"], "policies", "cron.job.cron_job_policy")).toBe(true);
    expect(leftOutWith(["pg_cron"], "tables", "public.events")).toBe(false);
    expect(leftOutWith(["pg_cron"], "extensions", "citext")).toBe(false);
    expect(leftOutWith([], "extensions", "pg_cron")).toBe(false);
  });

  it("says what was left out, and why", () => {
    expect(leftOutWords([], "copy")).toBeNull();
    expect(leftOutWords(["pg_cron"], "copy", "not yet known")).toBe(
      "An extension the copy, a database of another name, cannot have is left out with its jobs and settings, and with what of the database uses it: pg_cron (its setting cron.database_name names the one database that may have it); every other object and row is restored",
    );
    expect(leftOutWords(["pg_cron"], "drill")).toBe(
      "An extension the drill's scratch database cannot have is left out with its jobs and settings: pg_cron (its setting cron.database_name names the one database that may have it); every other object and row is restored",
    );
  });
});
