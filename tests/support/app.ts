// The real Next app (scripts/start.ts → next start) on a loopback port, for the list
// benchmark and the hostile-request suite. By default it runs from a snapshot of HEAD in a
// temp dir with its own `.next`, so building it never disturbs a dev server or Playwright
// run in the checkout (others' uncommitted edits stay out too). `appDir` = the checkout
// runs it in place.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { freePort } from "../../lib/embedded-postgres";
import { createDb, type Db } from "../../lib/db";
import { hashPassword } from "../../lib/passwords";
import { hashToken, newTokenSecret } from "../../lib/tokens";
import type { RoleName, Scope } from "../../lib/permissions";

/** What the app is built and run from: a change to any of these makes a new snapshot. */
export const APP_INPUTS = ["app", "components", "lib", "public", "prisma", "scripts", "package.json", "package-lock.json", "next.config.mjs", "postcss.config.mjs", "instrumentation.ts", "proxy.ts", "tsconfig.json", "prisma.config.ts"];
/** Tracked top-level entries the app is not built from (tests/app-inputs.test.ts checks the two lists cover the tree). */
export const NOT_APP_INPUTS = [".ci", ".env.example", ".gitignore", "README.md", "bench", "docs", "e2e", "eslint.config.mjs", "eslint.cycles.config.mjs", "playwright.config.ts", "tests", "vitest.config.ts"];
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/** A HEAD snapshot with hard-linked node_modules and the generated Prisma client; reused per commit. */
export function snapshotAppDir(log: (s: string) => void = () => {}): string {
  // Keyed on what the app is built from, so commits to tests or docs reuse the build.
  const trees = execFileSync("git", ["ls-tree", "HEAD", "--", ...APP_INPUTS], { cwd: REPO, encoding: "utf8" });
  const sha = createHash("sha256").update(trees).digest("hex").slice(0, 12);
  const dir = path.join(tmpdir(), `vaultline-app-${sha}`);
  if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "node_modules")) && existsSync(path.join(dir, "lib/generated"))) return dir;
  log(`preparing an app snapshot of HEAD (inputs ${sha}) in ${dir}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync("sh", ["-c", `git archive HEAD | tar -x -C '${tmp}'`], { cwd: REPO, stdio: "inherit" });
  execFileSync("cp", ["-al", path.join(REPO, "node_modules"), path.join(tmp, "node_modules")]);
  execFileSync("cp", ["-r", path.join(REPO, "lib/generated"), path.join(tmp, "lib/generated")]);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another run prepared the same snapshot meanwhile: use theirs.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, "package.json"))) throw e;
  }
  return dir;
}

export interface RunningApp {
  baseUrl: string;
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

export async function startApp(opts: {
  appDir: string;
  databaseUrl: string;
  env?: Record<string, string>;
  log?: (s: string) => void;
  timeoutMs?: number;
}): Promise<RunningApp> {
  const port = await freePort();
  if (port === 3210) return startApp(opts); // Playwright's port
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = path.join(tmpdir(), `vaultline-app-data-${port}`);
  mkdirSync(dataDir, { recursive: true });
  let out = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: opts.appDir,
    // Its own process group: stopping it stops next-server under it too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      DATABASE_URL: opts.databaseUrl,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOCAL_STORAGE_DIR: path.join(dataDir, "backups"),
      BACKUP_ENCRYPTION_PASSPHRASE: "bench-and-faults-passphrase",
      NEXTAUTH_SECRET: "bench-and-faults-nextauth-secret-0123456789",
      NEXTAUTH_URL: baseUrl,
      ADMIN_EMAIL: "admin@bench.local",
      ADMIN_PASSWORD: "admin-password-123",
      WORKER_IN_WEB: "false",
      LOG_LEVEL: "error",
      NEXT_TELEMETRY_DISABLED: "1",
      ...opts.env,
    },
  });
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-50_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited = false;
  const exit = new Promise<void>((r) => child.once("exit", () => ((exited = true), r())));
  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      }, 15_000);
      await exit;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const until = Date.now() + (opts.timeoutMs ?? 600_000);
  let said = false;
  for (;;) {
    if (exited) throw new Error(`the app exited during start:\n${out.slice(-4000)}`);
    try {
      const r = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200) break;
    } catch {}
    if (!said && /building the dashboard/.test(out)) {
      opts.log?.("next build running (first start of this snapshot)…");
      said = true;
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`the app did not answer /api/health in time:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { baseUrl, port, logs: () => out, stop };
}

export interface SeededUser {
  id: string;
  email: string;
  password: string;
  role: RoleName;
}

/** Users straight in the database (password hashed like the app does). */
export async function createUser(db: Db, role: RoleName, email: string, password = `${role.toLowerCase()}-password-123`): Promise<SeededUser> {
  const u = await db.user.upsert({
    where: { email },
    create: { email, displayName: `${role} user`, role, passwordHash: await hashPassword(password) },
    update: { role, disabledAt: null, passwordHash: await hashPassword(password) },
  });
  return { id: u.id, email, password, role };
}

/** An API token row (the secret is returned, its SHA-256 stored). */
export async function createApiToken(db: Db, creatorId: string, scopes: Scope[] | string[], name = `token-${scopes.join("+") || "none"}`): Promise<string> {
  const secret = newTokenSecret();
  await db.apiToken.create({ data: { name, scopes: scopes as string[], tokenHash: hashToken(secret), prefix: secret.slice(0, 10), createdById: creatorId } });
  return secret;
}

/** Signs in through next-auth's credentials flow; returns the Cookie header value. */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const take = (r: Response) => {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const csrfRes = await fetch(`${baseUrl}/api/auth/csrf`);
  take(csrfRes);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${baseUrl}/`, json: "true" }).toString(),
  });
  take(res);
  const session = [...jar.keys()].find((k) => k.endsWith("next-auth.session-token"));
  if (!session) throw new Error(`sign-in as ${email} failed: HTTP ${res.status} ${await res.text().catch(() => "")}`);
  return cookie();
}

export { createDb };
