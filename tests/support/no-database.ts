// Set-up of the "unit" Vitest project: a unit test has no database. Any PostgreSQL
// connection (pg directly, or Prisma through its pg adapter) fails at once with this
// message instead of hanging on a server that is not there, and DATABASE_URL is unset.
import pg from "pg";

delete process.env.DATABASE_URL;
delete process.env.TARGET_DATABASE_URL;

// pg calls connect() both ways: with a callback (Pool.query) and for a promise.
function refuse(callback?: unknown) {
  const e = new Error("a unit test opened a PostgreSQL connection: make it an integration test (tests/**/*.integration.test.ts)");
  if (typeof callback === "function") {
    queueMicrotask(() => (callback as (err: Error) => void)(e));
    return undefined;
  }
  return Promise.reject(e);
}
pg.Client.prototype.connect = refuse as typeof pg.Client.prototype.connect;
pg.Pool.prototype.connect = refuse as typeof pg.Pool.prototype.connect;
