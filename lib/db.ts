// Prisma client singleton through the pg driver adapter, kept on globalThis so that
// Next's dev reloads and the in-process worker share one pool.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client";
import { config } from "./config";

function create(url: string) {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: 10 }),
    omit: { user: { passwordHash: true }, apiToken: { tokenHash: true } },
  });
}

export type Db = ReturnType<typeof create>;

const g = globalThis as unknown as { __vaultlineDb?: Db };

export function db(): Db {
  g.__vaultlineDb ??= create(config().databaseUrl);
  return g.__vaultlineDb;
}

/** A client for another database (tests, drills); the caller disconnects it. */
export function createDb(url: string): Db {
  return create(url);
}

export async function disconnectDb(): Promise<void> {
  if (g.__vaultlineDb) {
    await g.__vaultlineDb.$disconnect();
    g.__vaultlineDb = undefined;
  }
}
