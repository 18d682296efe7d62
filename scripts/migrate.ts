// `npm run migrate`: apply prisma/migrations to DATABASE_URL (Prisma-compatible bookkeeping).
import { describeStatus, migrate, migrationStatus } from "../lib/migrate";
import { redactUrl } from "../lib/log";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set (the embedded default migrates itself on npm start)");
  process.exit(1);
}
const applied = await migrate(url);
console.log(applied.length ? `applied: ${applied.join(", ")}` : `${redactUrl(url)} is up to date`);
const problem = describeStatus(await migrationStatus(url));
if (problem) {
  console.error(problem);
  process.exit(1);
}
