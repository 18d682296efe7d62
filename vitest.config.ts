import { defineConfig } from "vitest/config";

// Two projects, run together by `vitest run` (`npm test`) and apart by `--project`:
// "unit" is the pure tests beside the code (no global setup, and any database connection
// fails: tests/support/no-database.ts); "integration" is tests/**, on the embedded
// PostgreSQL that its global setup starts.
export default defineConfig({
  resolve: { alias: { "@": import.meta.dirname } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    env: { LOG_LEVEL: "warn" },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts"],
          setupFiles: ["tests/support/no-database.ts"],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: { name: "integration", include: ["tests/**/*.test.ts"], globalSetup: ["tests/global-setup.ts"] },
      },
    ],
  },
});
