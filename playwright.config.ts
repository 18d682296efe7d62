// End-to-end tests in Debian's Chromium against a real `npm start` on a fresh embedded
// PostgreSQL (DATA_DIR .data/e2e, wiped first). A setup project signs in once per role.
import { defineConfig, devices } from "@playwright/test";
import { E2E } from "./e2e/env";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    baseURL: E2E.baseURL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    {
      name: "chromium",
      use: { ...devices["Desktop Chrome"], storageState: E2E.adminState },
      dependencies: ["setup"],
    },
  ],
  webServer: {
    command: `rm -rf ${E2E.dataDir} && tsx scripts/start.ts`,
    url: `${E2E.baseURL}/api/health`,
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATA_DIR: E2E.dataDir,
      PORT: String(E2E.port),
      EMBEDDED_PG_PORT: String(E2E.pgPort),
      ADMIN_EMAIL: E2E.admin.email,
      ADMIN_PASSWORD: E2E.admin.password,
      LOG_LEVEL: "warn",
    },
  },
});
