import { describe, expect, it } from "vitest";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createTailHolder, forwardUntilClosed, isDeadlock } from "./apply-archive";

describe("forwardUntilClosed", () => {
  it("keeps reading the source to its end after the reader closed early (regression: 'Premature close')", async () => {
    const received: Buffer[] = [];
    const dest = new Writable({
      write(chunk, _e, cb) {
        received.push(chunk);
        cb();
        if (received.length === 2) this.destroy();
      },
    });
    let read = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 50; i++) {
          read++;
          yield Buffer.alloc(1024, i);
        }
      })(),
    );
    await pipeline(source, forwardUntilClosed(dest));
    expect(read).toBe(50);
    expect(received.length).toBe(2);
  });

  it("ends the destination when the source ends", async () => {
    const chunks: Buffer[] = [];
    const dest = new Writable({
      write(chunk, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    await pipeline(Readable.from([Buffer.from("a"), Buffer.from("b")]), forwardUntilClosed(dest));
    if (!dest.writableFinished) await new Promise((r) => dest.once("finish", r));
    expect(Buffer.concat(chunks).toString()).toBe("ab");
  });
});

describe("createTailHolder", () => {
  it("holds back the last bytes (pg_restore's COMMIT) until released", async () => {
    const tail = createTailHolder(7);
    const out: Buffer[] = [];
    tail.stream.on("data", (c) => out.push(c));
    tail.stream.end("BEGIN; data; COMMIT;");
    await tail.ended;
    expect(Buffer.concat(out).toString()).toBe("BEGIN; data; ");
    expect(tail.release()).toBe(true);
    await new Promise((r) => tail.stream.once("end", r));
    expect(Buffer.concat(out).toString()).toBe("BEGIN; data; COMMIT;");
  });
});

describe("isDeadlock", () => {
  it("knows psql's words for SQLSTATE 40P01, and nothing else", () => {
    expect(isDeadlock(new Error("psql failed: deadlock detected; Process 7437 waits for AccessShareLock on relation 99465 of database 99001; blocked by process 7436."))).toBe(true);
    expect(isDeadlock(new Error("psql failed: canceling statement due to lock timeout"))).toBe(false);
    expect(isDeadlock(new Error("psql failed: relation \"deadlock detected_log\" does not exist"))).toBe(false);
    expect(isDeadlock("deadlock detected")).toBe(false);
  });
});
