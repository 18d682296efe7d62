// `npm test`: the type check, ESLint and the import-cycle check (one test each), Vitest
// (both projects of vitest.config.ts: unit, and integration on real PostgreSQL, S3 protocol,
// gpg), then Playwright in Chromium;
// prints one closing line `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

mkdirSync("test-results", { recursive: true });
for (const f of ["test-results/vitest.json", "test-results/playwright.json"]) rmSync(f, { force: true });
const only = process.argv[2]; // "unit" | "e2e" | undefined (both)

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, FORCE_COLOR: "0" } });
  return r.status ?? 1;
}

let passed = 0;
let failed = 0;
let crashed = false;
// The names of the failed tests, repeated just above the closing line: a CI log is often read
// from its end, and the runner's own report of a failure may be thousands of lines above it.
const failures = [];
const firstLine = (text) => String(text ?? "").split("\n").find((l) => l.trim() !== "")?.trim().slice(0, 300) ?? "";

if (only !== "e2e") {
  // The type check counts as one test: `next build` skips it so that starting never waits on it.
  // ESLint (Next's rules, typescript-eslint recommended) and the import-cycle check likewise.
  for (const script of ["typecheck", "lint", "cycles"]) {
    if (run("npm", ["run", "--silent", script]) === 0) passed += 1;
    else failed += 1;
  }
  const code = run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", "--outputFile.json=test-results/vitest.json"]);
  if (existsSync("test-results/vitest.json")) {
    const v = JSON.parse(readFileSync("test-results/vitest.json", "utf8"));
    passed += v.numPassedTests;
    failed += v.numFailedTests;
    for (const file of v.testResults ?? []) {
      const name = String(file.name).replace(`${process.cwd()}/`, "");
      const failedHere = (file.assertionResults ?? []).filter((t) => t.status === "failed");
      for (const t of failedHere) failures.push(`vitest ${name}: ${t.fullName} — ${firstLine(t.failureMessages?.[0])}`);
      if (failedHere.length === 0 && file.status === "failed") failures.push(`vitest ${name}: ${firstLine(file.message)}`);
    }
    // A suite that failed to load or in its beforeAll, or an unhandled error, counts as a
    // failure. Vitest's exit code alone missed a failed beforeAll (0 failed tests, exit 0,
    // "success": false in its report).
    if ((code !== 0 || v.success === false || (v.numFailedTestSuites ?? 0) > 0) && v.numFailedTests === 0) {
      failed += Math.max(1, v.numFailedTestSuites ?? 0);
    }
  } else if (code !== 0) crashed = true;
}

if (only !== "unit") {
  const code = run("npx", ["playwright", "test"]);
  if (existsSync("test-results/playwright.json")) {
    const p = JSON.parse(readFileSync("test-results/playwright.json", "utf8"));
    passed += p.stats.expected + (p.stats.flaky ?? 0);
    failed += p.stats.unexpected;
    const walk = (suite, titles) => {
      for (const spec of suite.specs ?? []) {
        for (const t of spec.tests ?? []) {
          if (t.status !== "unexpected") continue;
          const last = t.results?.[t.results.length - 1];
          failures.push(`playwright ${spec.file}:${spec.line}: ${[...titles, spec.title].join(" › ")} — ${firstLine(last?.error?.message)}`);
        }
      }
      for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
    };
    for (const suite of p.suites ?? []) walk(suite, []);
    if (code !== 0 && p.stats.unexpected === 0) failed += 1;
  } else if (code !== 0) crashed = true;
}

if (crashed) failed += 1;
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  ${f}`).join("\n")}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
