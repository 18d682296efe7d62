import { describe, expect, it } from "vitest";
import { reasonFromStderr } from "./pg-process";

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

  it("gives the last three lines when the error is among them, or there is none", () => {
    expect(reasonFromStderr("pg_dump: error: connection failed\nDETAIL: refused\n", "pg_dump")).toBe("connection failed; DETAIL: refused");
    expect(reasonFromStderr("one\ntwo\nthree\nfour\n", "psql")).toBe("two; three; four");
  });
});
