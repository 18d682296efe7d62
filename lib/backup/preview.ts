// What a restore would change (issue 4 §1): the backup's schema and migrations against the
// live target — the words the operator reads before anything is touched (seed 004,
// incident 1: "DB restore lost columns → homepage crash").
import type { BackupContext } from "./context";
import { contextForTargetId } from "./targets";
import { recipientOf } from "./keyring";
import { verifyBackupObjects, type VerifyOutcome } from "./verify";
import { excludedSchemas, prismaMigrationRows, schemaSnapshot, tableRowEstimates, withoutSchemas, type SchemaSnapshot } from "./introspect";
import type { Manifest, ManifestPart } from "./manifest";
import type { RestorePreview } from "../validation/restores";
import { ApiError, notFound } from "../errors";
import { poolerProblem } from "./pooler";
import { catalogBesideRecord, diffCatalogs, manifestCatalog } from "./catalog-snapshot";
import { chooseStrategy, copyProblems, ownershipPlan, probeTarget, roleNeeds, inPlaceLockProblem, preparedProblem, standbyProblem, type TargetCapabilities } from "./restore-plan";
import { measureTempSpace, tempSpaceProblem } from "./temp-space";
import { slotsWarning } from "./replication-slots";
import { extensionVersionNote, planExtensionVersions } from "./extension-versions";
import { searchPathProblems, searchPathWarning } from "./search-path-probe";
import { withClient, type Session } from "./pg-client";
import { databaseOf, onServer } from "./swap";
import { DEFAULT_DISK_RESERVE_BYTES, planServerDisk, serverDiskProblem, serverFacts } from "./server-disk";
import { filesDiskProblem, planFilesDisk } from "./files-disk";
import { findMissingDatabase, missingDatabaseWords, type MissingDatabase } from "./missing-database";
import { missingRolesWords, type MissingRoles } from "./role-definitions";
import { findMissingRoles } from "./roles";
import { findMissingTablespaces, missingTablespacesWords } from "./tablespaces";
import { findUnavailableExtensions, findUnloadedExtensions, findUntrustedExtensions, unavailableExtensionsWords, unloadedExtensionsWords, untrustedExtensionsWords } from "./unavailable-extensions";
import { leftOutWords, madeInCopy, pinnedElsewhereWords } from "./pinned-extensions";
import { pinnedTarget } from "./pinned-host";
import { copyFilesSettingName, filesCopyDirFor } from "./files-copy";
import { readDatabaseState, stateDifferences } from "./database-state";
import path from "node:path";

export function diffSchemas(live: SchemaSnapshot, backup: SchemaSnapshot) {
  const liveT = Object.keys(live.tables);
  const backT = Object.keys(backup.tables);
  const added = backT.filter((t) => !live.tables[t]).sort();
  const dropped = liveT.filter((t) => !backup.tables[t]).sort();
  const colsAdded: string[] = [];
  const colsDropped: string[] = [];
  const changed: string[] = [];
  for (const t of backT.filter((t) => live.tables[t])) {
    const l = live.tables[t].columns;
    const b = backup.tables[t].columns;
    for (const c of Object.keys(b)) {
      if (!(c in l)) colsAdded.push(`${t}.${c}`);
      else if (l[c] !== b[c]) changed.push(`${t}.${c} (${l[c]} → ${b[c]})`);
    }
    for (const c of Object.keys(l)) if (!(c in b)) colsDropped.push(`${t}.${c}`);
  }
  return { tables: { added, dropped }, columns: { added: colsAdded.sort(), dropped: colsDropped.sort(), changed: changed.sort() } };
}

type MigRow = { migration_name: string; finished_at: string | null; rolled_back_at: string | null };
const applied = (rows: MigRow[] | null) => new Set((rows ?? []).filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name));

export function diffMigrations(live: MigRow[] | null, backup: MigRow[] | null) {
  const l = applied(live);
  const b = applied(backup);
  return { reverted: [...l].filter((m) => !b.has(m)).sort(), reapplied: [...b].filter((m) => !l.has(m)).sort() };
}

function human(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)} minutes`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} hours`;
  return `${Math.round(seconds / 86400)} days`;
}

const KIND_NAMES: Record<string, string> = {
  schemas: "Schemas",
  extensions: "Extensions",
  views: "Views",
  materializedViews: "Materialized views",
  sequences: "Sequences",
  functions: "Functions",
  types: "Types",
  indexes: "Indexes",
  constraints: "Constraints",
  triggers: "Triggers",
  policies: "Policies",
  largeObjects: "Large objects",
};

/**
 * What the preview warns of. `into: "copy"` (decision 169): only what concerns the copy — a
 * copy changes nothing live, so what the live database would lose, what its files, locks,
 * prepared transactions and replication would do, are not said.
 */
export function previewWarnings(p: Omit<RestorePreview, "warnings" | "copyWarnings">, opts: { into?: "live" | "copy"; url?: string } = {}): string[] {
  const copy = opts.into === "copy";
  // In the order they are said; those about the live database marked.
  const w: { text: string; live: boolean }[] = [];
  const push = (text: string) => w.push({ text, live: false });
  const d = p.differences;
  const onLive = (text: string) => w.push({ text, live: true });
  if (!p.verified.ok) push(`The stored backup failed verification: ${p.verified.reason}. The restore will refuse to run.`);
  if (d.tables.dropped.length) onLive(`Tables that exist now and will be DROPPED: ${d.tables.dropped.join(", ")}.`);
  if (d.columns.dropped.length) onLive(`Columns that exist now and will disappear: ${d.columns.dropped.join(", ")}. Code that reads them will break.`);
  if (d.migrations.reverted.length) onLive(`Migrations applied since the backup will be reverted: ${d.migrations.reverted.join(", ")}. Deploy the matching code, or re-run migrations, after the restore.`);
  if (p.ageSeconds > 86400) onLive(`The backup is ${human(p.ageSeconds)} old: every change since then will be lost.`);
  if (p.objects) {
    for (const [kind, o] of Object.entries(p.objects)) {
      if (kind === "tables") continue;
      if (o.dropped.length) onLive(`${KIND_NAMES[kind] ?? kind} that exist now and will be REMOVED: ${o.dropped.join(", ")}.`);
    }
    const owners = Object.values(p.objects).flatMap((o) => o.ownerChanged);
    if (owners.length) onLive(`Owners go back to the backup's: ${owners.join(", ")}.`);
  }
  const roles = p.missingRoles ? missingRolesWords(p.missingRoles) : null;
  if (roles) push(roles);
  if (p.unavailableExtensions?.length) push(`${unavailableExtensionsWords(p.unavailableExtensions)}. Until then the restore refuses to run.`);
  if (p.unloadedExtensions?.length) push(`${unloadedExtensionsWords(p.unloadedExtensions)}. Until then the restore refuses to run.`);
  if (p.missingTablespaces?.length) push(`${missingTablespacesWords(p.missingTablespaces)}. Keeping them as the backup names them, the restore refuses to run.`);
  if (p.plan && !p.plan.ownership.canKeep) {
    // The roles the backup can make are the first way out (decision 171).
    const make = p.missingRoles?.creatable.length && !p.missingRoles.unknown.length ? "Create the missing roles as the backup recorded them, or choose" : "Choose";
    push(`Owners and grants cannot be restored as they were: ${p.plan.ownership.problems.join(" ")} ${make} "reassign" to give every object to Vaultline's role instead${p.plan.ownership.reassignKeepsGrants === false ? " (without the backup's grants)" : ""}, or fix the roles first.`);
  }
  const su = p.plan?.needsSuperuser;
  if (su?.objects.length) {
    const shown = su.objects.slice(0, 5).join(", ") + (su.objects.length > 5 ? `, and ${su.objects.length - 5} more` : "");
    push(
      `The backup holds ${su.objects.length === 1 ? "an object" : `${su.objects.length} objects`} only a superuser may create (${shown}), and Vaultline connects to this target as ${su.user}, which is not a superuser: the restore will fail on ${su.objects.length === 1 ? "it" : "the first of them"} and change nothing. Restore through a superuser's connection to this target.`,
    );
  }
  // A copy leaves pg_cron out (decision 201): it does not make it.
  const untrusted = opts.into === "copy" ? madeInCopy(p.untrustedExtensions ?? []) : (p.untrustedExtensions ?? []);
  if (su && untrusted.length) push(`${untrustedExtensionsWords(untrusted, su.user)}. Until then the restore refuses to run.`);
  const subs = p.plan?.subscriptions ?? [];
  if (subs.length) {
    onLive(
      `This database subscribes to logical replication (${subs.join(", ")}): after the restore ${subs.length === 1 ? "the subscription is" : "each subscription is"} disabled, as pg_dump recreates ${subs.length === 1 ? "it" : "them"}, and replication stays stopped until you enable ${subs.length === 1 ? "it" : "each"} (ALTER SUBSCRIPTION … ENABLE) — once the rows it would replay are the ones you want. The replication slot on the publisher is kept. Vaultline registers each subscription's tables again from the publisher (pg_dump's copy has none, and enabled like that it would skip what its slot holds); the restore's record says whether that worked. Changes applied between the backup and the restore are not replayed.`,
    );
  }
  // No restore of this database can create it (decision 201); a copy leaves it out instead.
  const elsewhere = opts.url ? pinnedElsewhereWords(p.plan?.pinnedExtensions ?? [], databaseOf(opts.url)) : null;
  if (elsewhere) onLive(`${elsewhere}. Until then the restore refuses to run.`);
  const searchPath = searchPathWarning(p.plan?.searchPath ?? []);
  if (searchPath) push(searchPath);
  const versions = extensionVersionNote(p.plan?.extensionVersions ?? []);
  if (versions) push(versions);
  const slots = p.plan ? slotsWarning(p.plan.replicationSlots ?? [], p.plan.strategy, p.plan.keepHours ?? 24) : null;
  if (slots) onLive(slots);
  const standby = standbyProblem({ standby: !!p.plan?.standby }, opts.url);
  if (standby) push(`${standby}. The restore refuses to run here.`);
  const pooled = poolerProblem(!!p.plan?.pooled);
  if (pooled) push(`${pooled}. The restore refuses to run through it.`);
  const prepared = preparedProblem({ preparedTransactions: p.plan?.preparedTransactions ?? [] });
  if (prepared) onLive(`${prepared}. Until then the restore refuses to run.`);
  const locks = p.plan?.strategy === "in-place" && p.plan.locks ? inPlaceLockProblem({ locks: p.plan.locks }) : null;
  if (locks) onLive(`${locks}.`);
  const space = p.plan?.tempSpace ? tempSpaceProblem(p.plan.tempSpace) : null;
  if (space) push(`${space}. Until then the restore refuses to run.`);
  const disk = p.plan?.serverDisk ? serverDiskProblem(p.plan.serverDisk) : null;
  if (disk) push(`${disk}.`);
  const files = p.plan?.filesDisk ? filesDiskProblem(p.plan.filesDisk) : null;
  if (files) onLive(`${files}. Until then the restore refuses to run.`);
  if (p.targetIsVaultline) onLive("The target is Vaultline's own database: backup history, restores and the audit log are re-read from storage afterwards.");
  return w.filter((x) => !copy || !x.live).map((x) => x.text);
}

type PreviewedJob = Parameters<typeof buildPreview>[1];

/** The backup's side of a preview: what it is, and whether it verified. */
function backupSide(ctx: BackupContext, job: PreviewedJob, verify: VerifyOutcome): Pick<RestorePreview, "backup" | "verified"> {
  const manifest = verify.manifest ?? null;
  return {
    backup: {
      id: job.id,
      kind: job.kind,
      createdAt: job.createdAt.toISOString(),
      completedAt: job.completedAt?.toISOString() ?? null,
      sizeBytes: job.sizeBytes === null ? null : Number(job.sizeBytes),
      commitSha: job.commitSha,
    },
    // Write-only backups: the restore will ask for the private key (issue 16 §3).
    verified: { ok: verify.ok, reason: verify.reason ?? null, ...(manifest && recipientOf(manifest.encryption) && !ctx.privateKey ? { needsPrivateKey: true } : {}) },
  };
}

/**
 * The preview of a restore into a database that is not there (decision 165): everything in
 * the backup is added, nothing is replaced; the plan is made once the restore has created it.
 */
function previewIntoMissing(
  ctx: BackupContext,
  job: PreviewedJob,
  verify: VerifyOutcome,
  missing: MissingDatabase,
  server: ServerLacks,
): RestorePreview & { manifest: Manifest | null } {
  const manifest = verify.manifest ?? null;
  const { missingRoles, missingTablespaces, unavailableExtensions, unloadedExtensions } = server;
  const roles = missingRoles ? missingRolesWords(missingRoles) : null;
  const backupSchema = (manifest as { schema?: SchemaSnapshot } | null)?.schema ?? { tables: {} };
  const backupRows = manifest?.tableRowEstimates ?? {};
  return {
    ...backupSide(ctx, job, verify),
    differences: { ...diffSchemas({ tables: {} }, backupSchema), migrations: diffMigrations([], manifest?.prismaMigrations ?? null) },
    objects: null,
    plan: null,
    missingDatabase: missing,
    missingRoles,
    missingTablespaces,
    unavailableExtensions,
    unloadedExtensions,
    rowEstimates: Object.fromEntries(Object.keys(backupRows).sort().map((n) => [n, { live: null, backup: backupRows[n] }])),
    ageSeconds: Math.round((Date.now() - (job.completedAt ?? job.createdAt).getTime()) / 1000),
    targetIsVaultline: false,
    safetyBackup: true,
    warnings: [
      `${missingDatabaseWords(missing)}.`,
      ...(unavailableExtensions.length ? [`${unavailableExtensionsWords(unavailableExtensions)}. Until then the restore refuses to run.`] : []),
      ...(unloadedExtensions.length ? [`${unloadedExtensionsWords(unloadedExtensions)}. Until then the restore refuses to run.`] : []),
      ...(roles ? [roles] : []),
      ...(missingTablespaces.length ? [`${missingTablespacesWords(missingTablespaces)}. Keeping them as the backup names them, the restore refuses to run.`] : []),
      ...changedFilesWarning(manifest?.parts.find((p) => p.name === "files"))],
    copyWarnings: [`The database ${missing.name} does not exist on the target's server, so there is nothing to restore a copy beside: restore the backup itself, which creates it.`],
    manifest,
  };
}

export async function previewRestore(appCtx: BackupContext, backupId: string): Promise<RestorePreview & { manifest: Manifest | null }> {
  const job = await appCtx.db.backupJob.findUnique({ where: { id: backupId } });
  if (!job) throw notFound("Backup");
  // Compared with the live database of the backup's own target: the one a restore replaces.
  const targetCtx = await contextForTargetId(appCtx, job.targetId);
  // Its host of a failover URL chosen once for the preview's reads (decision 190); a server
  // that does not answer at all is left to those reads to say.
  const pinned = await pinnedTarget(targetCtx.targetUrl, { orMaintenance: true }).catch(() => targetCtx.targetUrl);
  const ctx = pinned === targetCtx.targetUrl ? targetCtx : { ...targetCtx, targetUrl: pinned, targetUrlAsWritten: targetCtx.targetUrl };
  if (job.status !== "SUCCEEDED") throw new ApiError("CONFLICT", "Only a successful backup can be restored");
  if (job.kind !== "FULL") throw new ApiError("CONFLICT", "A QUICK backup holds no data; restore a FULL backup (roll back the code from Deployments)");
  const verify = await verifyBackupObjects(ctx, job);
  // Not knowing (the server itself unreachable) is left to the preview's own reads to say.
  const missing = await findMissingDatabase(ctx.targetUrl).catch(() => null);
  if (missing) return previewIntoMissing(ctx, job, verify, missing, await serverLacks(ctx.targetUrl, verify.manifest ?? null));
  return buildPreview(ctx, job, verify);
}

/** The roles the backup needs that the target's server lacks (decision 171); null when none. */
async function rolesMissing(target: Session, manifest: Manifest | null): Promise<MissingRoles | null> {
  const catalog = manifestCatalog(manifest);
  if (!catalog) return null;
  const m = await findMissingRoles(target, catalog.roles, catalog.roleDefinitions ?? []);
  return m.creatable.length || m.unknown.length ? m : null;
}

interface ServerLacks {
  missingRoles: MissingRoles | null;
  /** Decision 173. */
  missingTablespaces: string[];
  /** Decision 174. */
  unavailableExtensions: string[];
  /** Decision 206. */
  unloadedExtensions: string[];
}

/** What the target's server lacks of what the backup needs: roles, tablespaces, extension packages. */
async function serverLacks(target: Session, manifest: Manifest | null): Promise<ServerLacks> {
  const catalog = manifestCatalog(manifest);
  return onServer(target, async (c) => ({
    missingRoles: await rolesMissing(c, manifest),
    missingTablespaces: await findMissingTablespaces(c, catalog?.tablespaces ?? []),
    unavailableExtensions: await findUnavailableExtensions(c, Object.keys(catalog?.objects.extensions ?? {})),
    unloadedExtensions: await findUnloadedExtensions(c, Object.keys(catalog?.objects.extensions ?? {})),
  }));
}

/** The preview from an already-run verification (the restore verifies once, not twice). */
export async function buildPreview(
  ctx: BackupContext,
  job: { id: string; kind: string; createdAt: Date; completedAt: Date | null; sizeBytes: bigint | null; commitSha: string | null },
  verify: VerifyOutcome,
  /** `exactCounts: false`: live row numbers from the planner's statistics, not count(*) (the restore's own record). */
  opts: { exactCounts?: boolean; capabilities?: Promise<TargetCapabilities> } = {},
): Promise<RestorePreview & { manifest: Manifest | null }> {
  const manifest = verify.manifest ?? null;
  const excluded = excludedSchemas(ctx.targetUrl, ctx.appDatabaseUrl);
  const backupCatalog = manifestCatalog(manifest);
  const roles = backupCatalog?.roles ?? null;
  // The probe first: its pooler check must not run beside other sessions of ours through the
  // same pooler, which can take the server session it waits to see shared (decision 148; the
  // pooler test failed 1 run in 3 while the preview's reads ran beside it).
  const cap = await (opts.capabilities ?? probeTarget(ctx.targetUrl, roleNeeds(backupCatalog)));
  // One session, its reads one after another: side by side they took nine of the server's
  // connections, and a role with a CONNECTION LIMIT failed its restore at random (decision
  // 178). The row counts, the slowest, go last; not knowing the server's disk does not stop a preview.
  const targetIsVaultline = ctx.targetUrl === ctx.appDatabaseUrl;
  // Vaultline's own database keeps its own state (decision 194); a backup before it recorded none.
  const backupState = targetIsVaultline ? undefined : backupCatalog?.database;
  const [lacks, rawLive, liveMigrations, rawLiveRows, liveCatalog, extensionVersions, [searchPath, facts], liveState, untrustedExtensions] = await withClient(
    ctx.targetUrl,
    async (c) => {
      const lacks = await serverLacks(c, manifest);
      // Decision 209: a role that is not a superuser cannot make them again.
      const untrusted = cap.superuser ? [] : await findUntrustedExtensions(c, Object.keys(backupCatalog?.objects.extensions ?? {}));
      const rawLive = await schemaSnapshot(c);
      const liveMigrations = await prismaMigrationRows(ctx.targetUrl, c);
      const liveCatalog = backupCatalog ? await catalogBesideRecord(c, excluded, backupCatalog) : null;
      const extensionVersions = await planExtensionVersions(c, backupCatalog);
      const probed = [await searchPathProblems(c, excluded), await serverFacts(c).catch(() => null)] as const;
      const rawLiveRows = await tableRowEstimates(c, { countTimeoutMs: 3000, exact: opts.exactCounts });
      const liveState = backupState ? await readDatabaseState(c) : null;
      return [lacks, rawLive, liveMigrations, rawLiveRows, liveCatalog, extensionVersions, probed, liveState, untrusted] as const;
    },
    "vaultline-preview",
  );
  const strategy = chooseStrategy(cap, { targetIsVaultline, setting: ctx.restoreStrategy ?? "auto", keepHours: ctx.restoreKeepPreviousHours ?? 24 });
  // Only the swap restore with more than one job spools the archive (temp-space.ts).
  const dbPart = manifest?.parts.find((p) => p.name === "database");
  const tempSpace = strategy.strategy === "swap" && (ctx.restoreJobs ?? 2) > 1 && dbPart ? await measureTempSpace(dbPart) : null;
  // Either strategy writes a second copy of the data on the server before the first goes (server-disk.ts).
  const reserveBytes = ctx.diskReserveBytes ?? DEFAULT_DISK_RESERVE_BYTES;
  const serverDisk = facts ? (await planServerDisk(facts, { backupDatabaseBytes: manifest?.database.sizeBytes, reserveBytes })).plan : null;
  // The files part lands in FILES_DIR beside the files there now (files-disk.ts).
  const filesPart = manifest?.parts.find((p) => p.name === "files");
  const filesDisk = filesPart && ctx.filesDir ? await planFilesDisk(ctx.filesDir, filesPart, reserveBytes) : null;
  const live = withoutSchemas(rawLive, excluded);
  const liveRows = withoutSchemas(rawLiveRows, excluded);
  // Without a readable manifest there is nothing to compare with: listing every live table
  // as "dropped" would be a guess, and the restore refuses anyway.
  const backupSchema = (manifest as { schema?: SchemaSnapshot } | null)?.schema ?? live;
  const backupRows = manifest?.tableRowEstimates ?? {};
  const names = new Set([...Object.keys(liveRows), ...Object.keys(backupRows)]);
  const ownership = ownershipPlan(cap, roles, roleNeeds(backupCatalog).otherGrantors);
  const base: Omit<RestorePreview, "warnings" | "copyWarnings"> = {
    ...backupSide(ctx, job, verify),
    differences: {
      ...diffSchemas(live, backupSchema),
      migrations: diffMigrations(liveMigrations, manifest?.prismaMigrations ?? null),
      database: liveState && backupState ? stateDifferences(liveState, backupState) : null,
      databaseReassigned: liveState && backupState ? stateDifferences(liveState, backupState, { owner: false, grants: ownership.reassignKeepsGrants }) : null,
    },
    objects: liveCatalog ? diffCatalogs(liveCatalog.live, liveCatalog.recorded) : null,
    plan: {
      strategy: strategy.strategy,
      strategyReason: strategy.reason,
      ownership,
      tempSpace,
      serverDisk,
      filesDisk,
      // What PostgreSQL will refuse this role (catalog-snapshot.ts SUPERUSER_ONLY); a superuser may make all of it.
      needsSuperuser: cap.superuser ? null : { user: cap.user, objects: backupCatalog?.superuserOnly ?? [] },
      subscriptions: cap.subscriptions,
      replicationSlots: cap.replicationSlots,
      keepHours: ctx.restoreKeepPreviousHours ?? 24,
      standby: cap.standby,
      pooled: cap.pooled,
      preparedTransactions: cap.preparedTransactions,
      extensionVersions,
      pinnedExtensions: cap.pinnedExtensions ?? [],
      searchPath,
      locks: cap.locks,
    },
    ...lacks,
    untrustedExtensions,
    rowEstimates: Object.fromEntries([...names].sort().map((n) => [n, { live: liveRows[n] ?? null, backup: backupRows[n] ?? null }])),
    ageSeconds: Math.round((Date.now() - (job.completedAt ?? job.createdAt).getTime()) / 1000),
    targetIsVaultline,
    safetyBackup: true,
  };
  // A copy restores no files part: the changed files concern the live restore only.
  const asWritten = ctx.targetUrlAsWritten ?? ctx.targetUrl;
  // A copy, of another name, leaves out what its server lets one database have (decision 201).
  const leftOut = leftOutWords((cap.pinnedExtensions ?? []).map((x) => x.name), "copy", "not yet known");
  return {
    ...base,
    warnings: [...previewWarnings(base, { url: asWritten }), ...changedFilesWarning(filesPart)],
    copyWarnings: [
      // What would refuse the copy itself (a role that may not create databases): said before it is asked for.
      ...[copyProblems(cap)].filter((w): w is string => !!w).map((w) => `${w}. Until then a copy is refused.`),
      ...previewWarnings(base, { into: "copy", url: asWritten }),
      ...(filesPart ? [copyFilesWords(ctx)] : []),
      ...(leftOut ? [`${leftOut}.`] : []),
    ],
    manifest,
  };
}

/** Where a copy restore puts the backup's files part (decision 191), or that it does not. */
function copyFilesWords(ctx: BackupContext): string {
  const at = filesCopyDirFor(ctx);
  return at.dir
    ? `The backup's files go into a directory of ${copyFilesSettingName(ctx)} (${path.resolve(at.dir)}) named as the copy, beside the live files, and are removed with the copy; FILES_DIR is not touched.`
    : (at.notRestored ?? "").replace("was not restored", "is not restored").replace("FILES_DIR is as it was", "FILES_DIR is not touched");
}

/**
 * The files the application changed while this backup archived them (decision 168): restored
 * as they were read. Said before the restore, where someone still chooses a backup.
 */
export function changedFilesWarning(filesPart: ManifestPart | undefined): string[] {
  const changed = filesPart?.changedWhileArchived;
  if (!changed?.count) return [];
  const more = changed.count - changed.names.length;
  const listed = changed.names.join("; ") + (more > 0 ? `; and ${more} more` : "");
  return [
    `While this backup archived its files, the application changed ${changed.count === 1 ? "one of them" : `${changed.count} of them`}: ${listed}. ` +
      `${changed.count === 1 ? "It is" : "They are"} restored as read, which may be neither the content before nor after the change; an earlier or later backup may hold ${changed.count === 1 ? "it" : "them"} whole.`,
  ];
}
