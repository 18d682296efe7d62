import { describe, expect, it } from "vitest";
import { isBrokenWrite, PgToolError, reasonFromStderr, recoveryConflictHint, scrubPasswords, searchPathHint } from "./pg-process";

describe("reasonFromStderr: what a failed tool says", () => {
  it("keeps the first error when a multi-line command and a worker's death follow it", () => {
    const stderr = [
      "pg_restore: creating FK CONSTRAINT \"public.event_notes event_notes_event_fk\"",
      "pg_restore: from TOC entry 3543; 2606 17531 FK CONSTRAINT event_notes event_notes_event_fk vl_app",
      'pg_restore: error: could not execute query: ERROR:  there is no unique constraint matching given keys for referenced table "events"',
      "Command was: ALTER TABLE ONLY public.event_notes",
      "    ADD CONSTRAINT event_notes_event_fk FOREIGN KEY (event_id) REFERENCES public.events(id);",
      "",
      "pg_restore: error: a worker process died unexpectedly",
    ].join("\n");
    expect(reasonFromStderr(stderr, "pg_restore")).toBe(
      'could not execute query: ERROR:  there is no unique constraint matching given keys for referenced table "events"; ADD CONSTRAINT event_notes_event_fk FOREIGN KEY (event_id) REFERENCES public.events(id);; a worker process died unexpectedly',
    );
  });

  it("gives the error and what follows it, or the last three lines when there is none", () => {
    expect(reasonFromStderr("pg_dump: error: connection failed\nDETAIL: refused\n", "pg_dump")).toBe("connection failed; DETAIL: refused");
    // psql's NOTICEs before the error are not the reason (an in-place restore's led with one).
    expect(
      reasonFromStderr(
        'psql:<stdin>:40: NOTICE:  extension "postgres_fdw" does not exist, skipping\npsql:<stdin>:52: WARNING:  there is already a transaction in progress\npsql:<stdin>:96: ERROR:  role "mapper" does not exist\n',
        "psql",
      ),
    ).toBe('role "mapper" does not exist');
    expect(reasonFromStderr("one\ntwo\nthree\nfour\n", "psql")).toBe("two; three; four");
  });

  it("keeps psql's own ERROR line, not only the HINT, QUERY and CONTEXT after it (an in-place restore's reason lost it)", () => {
    const stderr = [
      "psql:<stdin>:80: ERROR:  function unaccent(unknown, text) does not exist",
      "LINE 1:  SELECT unaccent('unaccent', $1) ",
      "                ^",
      "HINT:  No function matches the given name and argument types. You might need to add explicit type casts.",
      "QUERY:   SELECT unaccent('unaccent', $1) ",
      'CONTEXT:  SQL function "f_unaccent" during inlining',
    ].join("\n");
    const reason = reasonFromStderr(stderr, "psql");
    expect(reason).toMatch(/^function unaccent\(unknown, text\) does not exist; QUERY: +SELECT unaccent\('unaccent', \$1\); CONTEXT: +SQL function "f_unaccent" during inlining — /);
    expect(reason).toContain("ALTER FUNCTION f_unaccent(…) SET search_path = public");
  });
});

describe("searchPathHint: a function of the backup that relies on the search_path", () => {
  it("names the function from PL/pgSQL's and SQL's contexts, with what was not found", () => {
    const plpgsql = [
      'pg_restore: error: COPY failed for table "users": ERROR:  function f_unaccent(text) does not exist',
      "LINE 1: f_unaccent(lower(t))",
      "HINT:  No function matches the given name and argument types. You might need to add explicit type casts.",
      "QUERY:  f_unaccent(lower(t))",
      "CONTEXT:  PL/pgSQL function public.p_norm(text) line 1 at RETURN",
      'COPY users, line 1: "1\tZoë"',
    ];
    expect(searchPathHint(plpgsql)).toMatch(/^function public\.p_norm\(text\) names something without its schema \(function f_unaccent\(text\) does not exist\)\. A restore runs with an empty search_path/);
    expect(searchPathHint(plpgsql)).toContain("ALTER FUNCTION public.p_norm(text) SET search_path = public");
    const sql = ['pg_restore: error: could not execute query: ERROR:  relation "settings" does not exist', 'CONTEXT:  SQL function "tenant_of" statement 1'];
    expect(searchPathHint(sql)).toMatch(/^function tenant_of names something without its schema \(relation "settings" does not exist\)/);
  });

  it("says nothing for an object missing outside a function, or a function failing otherwise", () => {
    expect(searchPathHint(['pg_restore: error: could not execute query: ERROR:  role "app" does not exist', "Command was: ALTER TABLE public.t OWNER TO app;"])).toBeNull();
    expect(searchPathHint(["ERROR:  division by zero", 'CONTEXT:  SQL function "ratio" statement 1'])).toBeNull();
  });
});

describe("scrubPasswords: what a failed statement echoes", () => {
  it("takes the password out of a user mapping's options, a subscription's connection string and a URL", () => {
    expect(scrubPasswords("Command was: CREATE USER MAPPING FOR app SERVER remote OPTIONS (\n    password 'hunter''2',\n    \"user\" 'bob'\n);")).toBe(
      "Command was: CREATE USER MAPPING FOR app SERVER remote OPTIONS (\n    password '***',\n    \"user\" 'bob'\n);",
    );
    expect(scrubPasswords("CREATE SUBSCRIPTION s CONNECTION 'host=pub port=5432 password=s3''cr3t dbname=shop' PUBLICATION p;")).toBe(
      "CREATE SUBSCRIPTION s CONNECTION 'host=pub port=5432 password=*** dbname=shop' PUBLICATION p;",
    );
    expect(scrubPasswords("CONNECTION 'host=pub password=''a b'' dbname=shop'")).toBe("CONNECTION 'host=pub password=*** dbname=shop'");
    expect(scrubPasswords("sslpassword = 'k3y' host=x")).toBe("sslpassword = *** host=x");
    expect(scrubPasswords("could not connect to postgresql://app:pa55@db:5432/shop")).toBe("could not connect to postgresql://app:***@db:5432/shop");
  });

  it("leaves the rest alone", () => {
    const text = 'ERROR:  role "mapper" does not exist; Command was: ALTER TABLE public.password_resets OWNER TO app;';
    expect(scrubPasswords(text)).toBe(text);
  });
});

describe("recoveryConflictHint: a standby that cancelled the dump", () => {
  it("says what happened and what to set, for pg_dump's words and the server's", () => {
    const stderr = [
      'pg_dump: error: Dumping the contents of table "events" failed: PQgetResult() failed.',
      "pg_dump: detail: Error message from server: ERROR:  canceling statement due to conflict with recovery",
      "DETAIL:  User was holding a relation lock for too long.",
      "pg_dump: detail: Command was: COPY public.events (id, payload) TO stdout;",
    ].join("\n");
    const reason = reasonFromStderr(stderr, "pg_dump");
    expect(reason).toMatch(
      /^Dumping the contents of table "events" failed: PQgetResult\(\) failed\.; Error message from server: ERROR: {2}canceling statement due to conflict with recovery; DETAIL: {2}User was holding a relation lock for too long\.; Command was: COPY public\.events \(id, payload\) TO stdout; — the standby cancelled the dump/,
    );
    expect(reason).toMatch(/hot_standby_feedback = on .* max_standby_streaming_delay .* or back up from the primary$/);
    expect(recoveryConflictHint("FATAL:  terminating connection due to conflict with recovery")).not.toBeNull();
    expect(recoveryConflictHint("ERROR:  canceling statement due to user request")).toBeNull();
  });
});

describe("a write broken because its reader stopped", () => {
  it("from Node, or in a tool's words: a broken pipe, SIGPIPE, or a socket pair's reset (CI: pg_restore into a psql stopped by an error)", () => {
    expect(isBrokenWrite(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))).toBe(true);
    expect(isBrokenWrite(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
    expect(isBrokenWrite(new PgToolError("pg_restore killed by SIGPIPE", null, ""))).toBe(true);
    expect(isBrokenWrite(new PgToolError("pg_restore failed: could not write to output file: Connection reset by peer", 1, ""))).toBe(true);
    expect(isBrokenWrite(new PgToolError("pg_restore failed: out of shared memory", 1, ""))).toBe(false);
    expect(isBrokenWrite(new Error("Connection reset by peer"))).toBe(false);
  });
});
