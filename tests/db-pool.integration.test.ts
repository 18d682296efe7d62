// Vaultline's own pool (lib/db.ts) frees its sessions of the database's idle_session_timeout
// (decision 141). The setting was sent from the pool's 'connect' event, so the first caller's
// query on a new connection was queued behind it inside pg: "Calling client.query() when the
// client is already executing a query is deprecated and will be removed in pg@9.0", printed
// by every worker and web server, and an error once pg 9 comes. Now the pool awaits the
// setting before it hands the connection out (decision 181).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { createDb, poolOf, type Db } from "../lib/db";
import { databaseOf } from "../lib/backup/swap";

const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);

describe("Vaultline's pool on a database with its own idle_session_timeout", () => {
  let url: string;
  let db: Db;

  beforeAll(async () => {
    url = await createDatabase("pool");
    await sql(url, `ALTER DATABASE "${databaseOf(url)}" SET idle_session_timeout = '1s'`);
    process.on("warning", onWarning);
  });

  afterAll(async () => {
    process.off("warning", onWarning);
    await db?.$disconnect();
    await dropDatabase(url);
  });

  it("hands out new connections already free of the timeout, with no query queued behind another", async () => {
    db = createDb(url);
    const pool = poolOf(db);
    // Five new connections at once through pg, and five through Prisma.
    const direct = await Promise.all(
      Array.from({ length: 5 }, () => pool.query<{ t: string; pid: number }>("SELECT current_setting('idle_session_timeout') AS t, pg_backend_pid() AS pid")),
    );
    expect(direct.map((r) => r.rows[0].t)).toEqual(["0", "0", "0", "0", "0"]);
    expect(new Set(direct.map((r) => r.rows[0].pid)).size, "five connections, each new").toBe(5);
    const viaPrisma = await Promise.all(
      Array.from({ length: 5 }, () => db.$queryRaw<{ t: string }[]>`SELECT current_setting('idle_session_timeout') AS t FROM pg_sleep(0.05)`),
    );
    expect(viaPrisma.map((r) => r[0].t)).toEqual(["0", "0", "0", "0", "0"]);
    // Idle longer than the database's timeout, then used again: the same sessions, alive.
    await new Promise((r) => setTimeout(r, 1_500));
    const again = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    expect(direct.map((r) => r.rows[0].pid)).toContain(again.rows[0].pid);
    // Node prints a warning on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => /already executing a query/.test(w))).toEqual([]);
  });
});
