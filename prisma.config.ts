import { defineConfig } from "prisma/config";

// The CLI is used only for `prisma generate` here; migrations are applied by
// scripts/migrate.ts (see docs/decisions.md). DATABASE_URL is optional for generate.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/unused" },
});
