import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import path from "node:path";

// Runs in a fresh Node process: which packages did importing the storage module (and
// creating an S3 storage) resolve? The AWS SDK must not be among them until it is used.
const script = `
import { registerHooks } from "node:module";
const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); if (r.url.includes("/@aws-sdk/")) seen.add("aws"); return r; } });
const { createStorage } = await import(${JSON.stringify(path.resolve("lib/backup/storage/index.ts"))});
const storage = createStorage({ STORAGE: "s3", localStorageDir: "/unused", S3_ENDPOINT: "http://127.0.0.1:9", S3_REGION: "us-east-1",
  S3_BUCKET: "b", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s", S3_FORCE_PATH_STYLE: true }, { maxAttempts: 1, connectionTimeoutMs: 500 });
const before = seen.has("aws");
await storage.ping().catch(() => {});
console.log(JSON.stringify({ before, after: seen.has("aws"), description: storage.description }));
`;

describe("the S3 driver is loaded on first use", () => {
  it("creating S3 storage loads no AWS SDK module; the first call does", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ before: false, after: true, description: "s3://b (http://127.0.0.1:9)" });
  });
});
