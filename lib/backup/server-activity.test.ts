import { afterEach, describe, expect, it, vi } from "vitest";
import type pg from "pg";
import { blockerEnder, statementTarget, type Blocker, type EndOutcome, type SessionActivity } from "./server-activity";
import { finishedItem, isVerboseLine } from "./streamed-restore";
import { describeBlocker, describeBuild, describeWaits, endedSessionWords } from "../restore-activity-text";

describe("statementTarget", () => {
  it.each([
    ["CREATE INDEX entries_memo_idx ON ledger.entries USING btree (memo);", { doing: "index", name: "entries_memo_idx", table: "ledger.entries" }],
    ["CREATE UNIQUE INDEX accounts_email_lower ON ONLY ledger.accounts USING btree (lower(email));", { doing: "index", name: "accounts_email_lower", table: "ledger.accounts" }],
    ['CREATE INDEX "Order Lines_idx" ON "Sales"."Order Lines" USING btree (id);', { doing: "index", name: '"Order Lines_idx"', table: '"Sales"."Order Lines"' }],
    ["ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY (id);", { doing: "constraint", name: "a_pkey", table: "public.a" }],
    ["ALTER TABLE ONLY ledger.entries\n    ADD CONSTRAINT entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES ledger.accounts(id);", { doing: "constraint", name: "entries_account_id_fkey", table: "ledger.entries" }],
    ["--\n-- Name: a_v_idx; Type: INDEX; Schema: public; Owner: app\n--\n\nCREATE INDEX a_v_idx ON public.a USING btree (v);", { doing: "index", name: "a_v_idx", table: "public.a" }],
    ["COPY public.orders (id, total) FROM stdin;", { doing: "copy", name: null, table: "public.orders" }],
    ["SELECT pg_catalog.setval('public.a_id_seq', 42, true);", { doing: "other", name: null, table: null }],
    ["", { doing: "other", name: null, table: null }],
  ])("%j", (query, expected) => {
    expect(statementTarget(query)).toEqual(expected);
  });
});

describe("pg_restore --verbose lines", () => {
  it("reads the dump id of a finished item", () => {
    expect(finishedItem("pg_restore: finished item 3201 CONSTRAINT a a_pkey")).toBe(3201);
    expect(finishedItem("pg_restore: launching item 3201 CONSTRAINT a a_pkey")).toBeNull();
    expect(finishedItem("pg_restore: error: could not execute query: ERROR:  finished item 12 ")).toBeNull();
  });
  it("takes progress lines and leaves every line a failure's reason is made of", () => {
    for (const l of [
      "pg_restore: connecting to database for restore",
      "pg_restore: processing item 3352 ENCODING ENCODING",
      "pg_restore: entering main parallel loop",
      "pg_restore: launching item 3201 CONSTRAINT a a_pkey",
      'pg_restore: creating CONSTRAINT "public.a a_pkey"',
      "pg_restore: finished item 3201 CONSTRAINT a a_pkey",
      "pg_restore: skipping item 3348 TABLE DATA a",
      "pg_restore: finished main parallel loop",
    ])
      expect(isVerboseLine(l), l).toBe(true);
    for (const l of [
      "pg_restore: error: could not execute query: ERROR:  could not create unique index \"a_pkey\"",
      "pg_restore: while PROCESSING TOC:",
      "pg_restore: from TOC entry 3201; 2606 16390 CONSTRAINT a a_pkey postgres",
      "DETAIL:  Key (id)=(1) is duplicated.",
      "Command was: ALTER TABLE ONLY public.a",
      "pg_restore: warning: errors ignored on restore: 1",
    ])
      expect(isVerboseLine(l), l).toBe(false);
  });
});

describe("the activity in words", () => {
  const blocker = { pid: 4242, user: "report", application: "nightly-report", state: "idle in transaction", kind: "client backend", client: "10.0.0.7", transactionSeconds: 840 };
  it("describes a blocker by what finds and ends it", () => {
    expect(describeBlocker(blocker)).toBe('pid 4242 (user report, application "nightly-report", from 10.0.0.7), idle in transaction (transaction open 14 min)');
    // What a role without pg_read_all_stats sees of another role's session.
    expect(describeBlocker({ pid: 7, user: "postgres", application: "psql", state: null, kind: null, client: null, transactionSeconds: null })).toBe('pid 7 (user postgres, application "psql")');
    expect(describeBlocker({ ...blocker, kind: "autovacuum worker", user: null, application: null, client: null, state: "active", transactionSeconds: 3 })).toBe("pid 4242 (autovacuum worker), active (transaction open 3 s)");
  });
  it("says only the sessions that wait", () => {
    const session = { pid: 1, doing: "index" as const, name: "i", table: "t", seconds: 75, phase: null, done: null, total: null, waitingFor: [] };
    expect(describeWaits(null)).toEqual([]);
    expect(describeWaits({ sessions: [session, { ...session, pid: 2, waitingFor: [blocker] }] })).toEqual([
      'waited 1 min 15 s for a lock held by pid 4242 (user report, application "nightly-report", from 10.0.0.7), idle in transaction (transaction open 14 min)',
    ]);
    // A failure's reason names no wait under a second: an autovacuum worker's lock, given up when asked, read as the cause.
    const brief = { ...session, pid: 3, seconds: 0.4, waitingFor: [{ ...blocker, kind: "autovacuum worker" }] };
    expect(describeWaits({ sessions: [brief] }, { minSeconds: 1 })).toEqual([]);
    expect(describeWaits({ sessions: [brief, { ...session, pid: 2, waitingFor: [blocker] }] }, { minSeconds: 1 })).toHaveLength(1);
  });
  it("describes a build with its phase and how far", () => {
    const s = { pid: 1, doing: "index" as const, name: "entries_memo_idx", table: "ledger.entries", seconds: 4, phase: "building index: loading tuples in tree", done: 250, total: 1000, waitingFor: [] };
    expect(describeBuild(s)).toBe("index entries_memo_idx on ledger.entries: loading tuples in tree, 25 %");
    expect(describeBuild({ ...s, phase: "initializing", done: 0, total: 0 })).toBe("index entries_memo_idx on ledger.entries: initializing");
    expect(describeBuild({ ...s, doing: "constraint", name: "fk", phase: null, done: null, total: null })).toBe("constraint fk on ledger.entries");
    expect(describeBuild({ ...s, doing: "copy" })).toBeNull();
  });
});

describe("ending the sessions that block a restore (decision 185)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const blocker = (pid: number, application: string | null = "nightly-report"): Blocker => ({ pid, user: "report", application, state: "idle in transaction", kind: "client backend", client: null, transactionSeconds: 5 });
  const waiting = (...by: Blocker[]): SessionActivity[] => [
    { pid: 1, doing: "other", name: null, table: null, seconds: 1, phase: null, done: null, total: null, waitingFor: by },
  ];
  /** A session whose pg_terminate_backend answers `answer` for each pid (or throws it). */
  function fakeClient(answer: (pid: number) => boolean | Error) {
    const asked: number[] = [];
    const client = {
      query: async (_text: string, [pid]: [number]) => {
        asked.push(pid);
        const a = answer(pid);
        if (a instanceof Error) throw a;
        return { rows: [{ ended: a }] };
      },
    } as unknown as pg.Client;
    return { client, asked };
  }

  it("ends a session once it has blocked for the grace period, once, and never one of Vaultline's own", async () => {
    vi.useFakeTimers({ now: 0 });
    const outcomes: [number, EndOutcome][] = [];
    const end = blockerEnder({ afterMs: 10_000, onOutcome: (b, o) => outcomes.push([b.pid, o]) });
    const { client, asked } = fakeClient(() => true);
    const notStopped = () => false;
    await end(client, waiting(blocker(42), blocker(43, "vaultline-checksums")), notStopped);
    vi.setSystemTime(9_999);
    await end(client, waiting(blocker(42), blocker(43, "vaultline-checksums")), notStopped);
    expect(asked).toEqual([]);
    vi.setSystemTime(10_000);
    await end(client, waiting(blocker(42), blocker(43, "vaultline-checksums")), notStopped);
    expect(asked).toEqual([42]);
    expect(outcomes).toEqual([[42, { ended: true }]]);
    // Tried once: a later sample that still shows it (it has not gone yet) does not ask again.
    vi.setSystemTime(12_000);
    await end(client, waiting(blocker(42)), notStopped);
    expect(asked).toEqual([42]);
  });

  it("never ends Vaultline's own pool by the name its DATABASE_URL gives it (decision 188)", async () => {
    vi.useFakeTimers({ now: 0 });
    const end = blockerEnder({ afterMs: 0, spare: ["ops-dashboard"], onOutcome: () => undefined });
    const { client, asked } = fakeClient(() => true);
    await end(client, waiting(blocker(8, "ops-dashboard"), blocker(9, "ops-dashboard-2"), blocker(10, null)), () => false);
    // Only the exact name is spared: a longer one and an unnamed session are the application's.
    expect(asked).toEqual([9, 10]);
  });

  it("counts the grace period afresh for a session that stopped blocking and blocks again", async () => {
    vi.useFakeTimers({ now: 0 });
    const end = blockerEnder({ afterMs: 10_000, onOutcome: () => undefined });
    const { client, asked } = fakeClient(() => true);
    await end(client, waiting(blocker(7)), () => false);
    vi.setSystemTime(6_000);
    await end(client, waiting(), () => false);
    vi.setSystemTime(12_000);
    await end(client, waiting(blocker(7)), () => false);
    expect(asked).toEqual([]);
    vi.setSystemTime(22_000);
    await end(client, waiting(blocker(7)), () => false);
    expect(asked).toEqual([7]);
  });

  it("says what PostgreSQL said when it refuses, and that the session had gone when it had", async () => {
    vi.useFakeTimers({ now: 0 });
    const outcomes: EndOutcome[] = [];
    const end = blockerEnder({ afterMs: 0, onOutcome: (_b, o) => outcomes.push(o) });
    const refused = Object.assign(new Error("permission denied to terminate process"), {
      detail: 'Only roles with privileges of the role whose process is being terminated or with privileges of the "pg_signal_backend" role may terminate this process.',
    });
    const { client } = fakeClient((pid) => (pid === 1 ? refused : false));
    await end(client, waiting(blocker(1), blocker(2)), () => false);
    expect(outcomes).toEqual([
      { ended: false, reason: 'permission denied to terminate process (Only roles with privileges of the role whose process is being terminated or with privileges of the "pg_signal_backend" role may terminate this process)' },
      { ended: false, reason: "it had already ended" },
    ]);
    expect(endedSessionWords(blocker(1), outcomes[0]!)).toBe(
      'Could not end pid 1 (user report, application "nightly-report"), idle in transaction (transaction open 5 s), which held a lock the restore waited for: permission denied to terminate process (Only roles with privileges of the role whose process is being terminated or with privileges of the "pg_signal_backend" role may terminate this process). The restore waited for it instead.',
    );
    expect(endedSessionWords(blocker(2), { ended: true })).toBe(
      'Ended pid 2 (user report, application "nightly-report"), idle in transaction (transaction open 5 s): it held a lock the restore waited for (asked: end blocking sessions).',
    );
  });

  it("asks nothing once the watch is stopped", async () => {
    const end = blockerEnder({ afterMs: 0, onOutcome: () => undefined });
    const { client, asked } = fakeClient(() => true);
    await end(client, waiting(blocker(9)), () => true);
    expect(asked).toEqual([]);
  });
});
