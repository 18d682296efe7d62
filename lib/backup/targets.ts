// Targets in the domain (DESIGN §8): which database a job belongs to, and the context to
// run it with. Everything that runs a backup, restore, verify, drill or check takes the
// job row's targetId through `contextForTarget`, so one code path serves every target.
import { describeHosts, hasSeveralHosts, readDbUrl } from "../pg-hosts";
import type { Db } from "../db";
import type { BackupContext, TargetRef } from "./context";
import { decryptTargetUrl } from "./target-secret";
import { DEFAULT_TARGET_ID, readTargetSettings, type TargetSettings } from "../validation/targets";

export { DEFAULT_TARGET_ID };

export interface TargetRow {
  id: string;
  name: string;
  environment: string;
  databaseUrlEncrypted: string | null;
  host: string;
  database: string;
  isDefault: boolean;
  settings: unknown;
}

const targetSelect = {
  id: true,
  name: true,
  environment: true,
  databaseUrlEncrypted: true,
  host: true,
  database: true,
  isDefault: true,
  settings: true,
} as const;

export class UnknownTargetError extends Error {
  constructor(public readonly selector: string) {
    super(`No target is named or has the id ${JSON.stringify(selector)}`);
    this.name = "UnknownTargetError";
  }
}

/** By id or name; an absent selector is `default`. Null when there is no such target. */
export async function findTarget(db: Db, selector?: string | null): Promise<TargetRow | null> {
  const s = selector ?? DEFAULT_TARGET_ID;
  const rows = await db.target.findMany({ where: { OR: [{ id: s }, { name: s }] }, select: targetSelect, take: 2 });
  // An id wins over a name (a name can never look like another target's cuid, but be exact).
  return rows.find((r) => r.id === s) ?? rows[0] ?? null;
}

/** As findTarget, throwing UnknownTargetError (the routes answer 404 with it). */
export async function requireTarget(db: Db, selector?: string | null): Promise<TargetRow> {
  const t = await findTarget(db, selector);
  if (!t) throw new UnknownTargetError(selector ?? DEFAULT_TARGET_ID);
  return t;
}

export function targetRef(t: Pick<TargetRow, "id" | "name" | "environment">): TargetRef {
  return { id: t.id, name: t.name, environment: t.environment };
}

export function targetSettings(t: Pick<TargetRow, "settings">): TargetSettings {
  return readTargetSettings(t.settings);
}

/** The connection URL of a target: TARGET_DATABASE_URL for `default`, else its stored one. */
export function targetUrl(base: Pick<BackupContext, "targetUrl" | "targetSecret">, t: Pick<TargetRow, "isDefault" | "databaseUrlEncrypted" | "name">): string {
  if (t.isDefault || !t.databaseUrlEncrypted) {
    if (!t.isDefault) throw new Error(`target ${t.name} has no connection URL`);
    return base.targetUrl;
  }
  if (!base.targetSecret) throw new Error("no TARGET_URL_SECRET (or NEXTAUTH_SECRET) to decrypt the target's connection URL with");
  return decryptTargetUrl(base.targetSecret, t.databaseUrlEncrypted);
}

/**
 * The context a job of target `t` runs with: its database, its environment (a segment of
 * its storage keys), its checks file and files directory. `base` is the app's context
 * (the default target's); the default target keeps base's own files and checks settings.
 */
export function contextForTarget(base: BackupContext, t: TargetRow): BackupContext {
  // Always from the app's own context: a target's context never leaks into another's.
  const app = base.appContext ?? base;
  // The default target's environment is BACKUP_ENV (the app's env), whatever its row says.
  const target = t.isDefault ? { ...targetRef(t), environment: app.env } : targetRef(t);
  const s = targetSettings(t);
  // A target's own give-way, 0 included, over BACKUP_GIVE_WAY_SECONDS (decision 189).
  const giveWay = s.giveWaySeconds !== undefined ? { backupGiveWaySeconds: s.giveWaySeconds, backupGiveWaySetBy: "target" as const } : {};
  // Its own directory for a copy restore's files, over RESTORE_COPY_FILES_DIR (decision 192).
  const copyFiles = s.copyFilesDir !== undefined ? { restoreCopyFilesDir: s.copyFilesDir, restoreCopyFilesDirSetBy: "target" as const } : {};
  const common = { appContext: app, target, catalogueEnv: app.catalogueEnv ?? app.env, ...giveWay, ...copyFiles };
  // The default target's environment is BACKUP_ENV (the app's env; the row mirrors it).
  if (t.isDefault) return { ...app, ...common };
  return {
    ...app,
    ...common,
    targetUrl: targetUrl(app, t),
    env: t.environment,
    checksFile: s.checksFile,
    filesDir: s.filesDir,
    // The app's own migrations and commit describe the app Vaultline runs beside: they
    // belong to the default target only.
    appMigrationsDir: undefined,
    appCommitSha: undefined,
    appRepoDir: undefined,
  };
}

/**
 * Where a target's backups are kept (environment, name) without decrypting its URL: enough
 * for keys, not for connecting. A row of a deleted target cannot occur (the foreign key).
 */
export function contextForTargetKeys(ctx: BackupContext, t: { id: string; name: string; environment: string; isDefault: boolean }): BackupContext {
  const app = ctx.appContext ?? ctx;
  if (t.isDefault || t.id === DEFAULT_TARGET_ID) return contextForTarget(app, { ...t, databaseUrlEncrypted: null, host: "", database: "", settings: {}, isDefault: true });
  return { ...app, appContext: app, target: targetRef(t), env: t.environment, catalogueEnv: app.catalogueEnv ?? app.env };
}

/** contextForTarget by id or name (a job row's targetId). */
export async function contextForTargetId(base: BackupContext, selector?: string | null): Promise<BackupContext> {
  return contextForTarget(base, await requireTarget(base.db, selector));
}

/** Host and database of a URL for display: never the user or password. */
export function describeDatabaseUrl(url: string): { host: string; database: string } {
  try {
    const u = readDbUrl(url);
    if (hasSeveralHosts(url)) return { host: describeHosts(url), database: decodeURIComponent(u.pathname.replace(/^\//, "")) };
    // A socket directory written in the host part is percent-encoded there (socketHostInline).
    const host = decodeURIComponent(u.hostname) || new URLSearchParams(u.search).get("host") || "localhost";
    return { host: u.port ? `${host}:${u.port}` : host, database: decodeURIComponent(u.pathname.replace(/^\//, "")) };
  } catch {
    return { host: "", database: "" };
  }
}

/**
 * Start-up (web, worker and CLI): the default target exists (the migration made it), and its
 * environment, host and database follow BACKUP_ENV and TARGET_DATABASE_URL — credentials are
 * never stored for it, so they stay as current as the environment.
 */
export async function ensureDefaultTarget(db: Db, opts: { environment: string; targetUrl: string }): Promise<void> {
  const { host, database } = describeDatabaseUrl(opts.targetUrl);
  await db.target.upsert({
    where: { id: DEFAULT_TARGET_ID },
    create: { id: DEFAULT_TARGET_ID, name: DEFAULT_TARGET_ID, environment: opts.environment, isDefault: true, host, database },
    update: { environment: opts.environment, isDefault: true, host, database },
  });
}
