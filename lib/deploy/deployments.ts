// Deployment records: gate decisions, deploys run by Vaultline, deploys reported by CI,
// and rollbacks — one table, mirrored to storage like restore records, because a
// rollback of Vaultline's own database would otherwise erase the record of itself.
import type { BackupContext } from "../backup/context";
import type { Actor } from "../audit";
import { audit } from "../audit";
import { notFound } from "../errors";
import { componentLogger } from "../log";
import type { BackupKind, DeploymentType, Prisma, RollbackPhase } from "../generated/prisma/client";
import type {
  CreateDeploymentInput,
  DeploymentBackupSummary,
  DeploymentDto,
  DeploymentStatus,
  RollbackInfo,
} from "../validation/deploy";
import { checkRunSchema, type CheckRun } from "../validation/checks";
import type { TargetRefDto } from "../validation/backups";
import { requireTarget } from "../backup/targets";

const log = componentLogger("deploy");

/** Who acts: the audit actor and the user a token acts for. */
export interface Who {
  actor: Actor;
  userId: string | null;
}

type Row = Awaited<ReturnType<BackupContext["db"]["deployment"]["findFirstOrThrow"]>>;

/** The JSON kept in storage for one record: the row, dates as ISO strings. */
export interface DeploymentRecord {
  id: string;
  /** Absent from records written before targets: the default target's. */
  targetId?: string;
  /** Absent from records written before the type column (see legacyRecordColumns). */
  type?: DeploymentType;
  commitSha: string;
  environment: string;
  gateDecision: boolean;
  reasons: string[];
  checks: unknown;
  backupId: string | null;
  status: DeploymentStatus;
  url: string | null;
  log: string;
  actorId: string | null;
  actorLabel: string | null;
  at: string;
  completedAt: string | null;
  rollbackPhase?: RollbackPhase | null;
  rollbackBackupKind?: BackupKind | null;
  restoreId?: string | null;
  preRestoreBackupId?: string | null;
}

export function deploymentsPrefix(ctx: Pick<BackupContext, "prefix" | "env">): string {
  return `${ctx.prefix}/${ctx.env}/deployments/`;
}

function recordKey(ctx: Pick<BackupContext, "prefix" | "env">, id: string): string {
  return `${deploymentsPrefix(ctx)}${id}.json`;
}

function toRecord(r: Row): DeploymentRecord {
  return { ...r, checks: r.checks ?? null, at: r.at.toISOString(), completedAt: r.completedAt?.toISOString() ?? null };
}

/** Writes the row's current state to storage; a storage outage is logged, never fatal. */
export async function mirrorDeployment(ctx: BackupContext, id: string): Promise<void> {
  const row = await ctx.db.deployment.findUnique({ where: { id } });
  if (!row) return;
  await ctx.storage
    .putBytes(recordKey(ctx, id), JSON.stringify(toRecord(row)), "application/json")
    .catch((e: Error) => log.error({ deploymentId: id, err: e.message }, "deployment record not mirrored to storage"));
}

type RollbackColumns = Pick<Row, "type" | "backupId" | "rollbackPhase" | "rollbackBackupKind" | "restoreId" | "preRestoreBackupId">;

/** A rollback's own columns as the API has always shown them; null for other types. */
function rollbackInfo(r: RollbackColumns): RollbackInfo | null {
  if (r.type !== "ROLLBACK" || !r.backupId || !r.rollbackBackupKind) return null;
  return {
    backupId: r.backupId,
    backupKind: r.rollbackBackupKind,
    restoreId: r.restoreId,
    preRestoreBackupId: r.preRestoreBackupId,
    phase: (r.rollbackPhase ?? "DONE").toLowerCase() as RollbackInfo["phase"],
  };
}

function checkRunOf(checks: unknown): CheckRun | null {
  return checks && typeof checks === "object" && "results" in checks ? (checks as CheckRun) : null;
}

export function deploymentType(r: Pick<Row, "type">): DeploymentDto["type"] {
  return r.type.toLowerCase() as DeploymentDto["type"];
}

/**
 * Records mirrored to storage before the type column kept a rollback's state in checks as
 * `{rollback, run?}` and told the types apart by status and checks (the same rules as
 * migration 20261201030000_honest_data_model): read them into today's columns.
 */
export function legacyRecordColumns(r: DeploymentRecord): Pick<Row, "type" | "checks" | "rollbackPhase" | "rollbackBackupKind" | "restoreId" | "preRestoreBackupId"> {
  const none = { rollbackPhase: null, rollbackBackupKind: null, restoreId: null, preRestoreBackupId: null };
  if (r.type) {
    return {
      type: r.type,
      checks: (r.checks ?? null) as Row["checks"],
      rollbackPhase: r.rollbackPhase ?? null,
      rollbackBackupKind: r.rollbackBackupKind ?? null,
      restoreId: r.restoreId ?? null,
      preRestoreBackupId: r.preRestoreBackupId ?? null,
    };
  }
  const c = r.checks as { rollback?: Partial<RollbackInfo> & { phase?: string }; run?: unknown } | null;
  if (c && typeof c === "object" && c.rollback && typeof c.rollback === "object") {
    const phase = c.rollback.phase === "restoring" ? "RESTORING" : c.rollback.phase === "code" ? "CODE" : "DONE";
    const run = checkRunSchema.safeParse(c.run);
    return {
      type: "ROLLBACK",
      checks: run.success ? (run.data as unknown as Row["checks"]) : null,
      rollbackPhase: phase,
      rollbackBackupKind: c.rollback.backupKind === "FULL" || c.rollback.backupKind === "QUICK" ? c.rollback.backupKind : null,
      restoreId: c.rollback.restoreId ?? null,
      preRestoreBackupId: c.rollback.preRestoreBackupId ?? null,
    };
  }
  const type: DeploymentType =
    r.status === "ALLOWED" || r.status === "BLOCKED" ? "GATE" : checkRunOf(r.checks) || r.log ? "DEPLOY" : "RECORD";
  return { type, checks: (r.checks ?? null) as Row["checks"], ...none };
}

function backupSummary(b: {
  id: string;
  kind: BackupKind;
  status: string;
  trigger: string;
  completedAt: Date | null;
  commitSha: string | null;
}): DeploymentBackupSummary {
  return { id: b.id, kind: b.kind, status: b.status, trigger: b.trigger, completedAt: b.completedAt?.toISOString() ?? null, commitSha: b.commitSha };
}

export function toDeploymentDto(r: Row & { target: TargetRefDto }, backup: DeploymentBackupSummary | null, withLog = false): DeploymentDto {
  return {
    id: r.id,
    target: r.target,
    type: deploymentType(r),
    commitSha: r.commitSha,
    environment: r.environment,
    gateDecision: r.gateDecision,
    reasons: r.reasons,
    checks: checkRunOf(r.checks),
    rollback: rollbackInfo(r),
    backupId: r.backupId,
    backup,
    status: r.status,
    url: r.url,
    actor: { id: r.actorId, label: r.actorLabel },
    at: r.at.toISOString(),
    completedAt: r.completedAt?.toISOString() ?? null,
    logBytes: Buffer.byteLength(r.log),
    ...(withLog ? { log: r.log } : {}),
  };
}

async function backupsById(ctx: Pick<BackupContext, "db">, ids: (string | null)[]) {
  const want = [...new Set(ids.filter((x): x is string => !!x))];
  if (!want.length) return new Map<string, DeploymentBackupSummary>();
  const rows = await ctx.db.backupJob.findMany({
    where: { id: { in: want } },
    select: { id: true, kind: true, status: true, trigger: true, completedAt: true, commitSha: true },
  });
  return new Map(rows.map((b) => [b.id, backupSummary(b)]));
}

const targetInclude = { select: { id: true, name: true, environment: true } } as const;

// The log can reach 1 MB per row: the list leaves it out.
const listSelect = {
  id: true,
  type: true,
  commitSha: true,
  environment: true,
  targetId: true,
  target: targetInclude,
  gateDecision: true,
  reasons: true,
  checks: true,
  backupId: true,
  status: true,
  url: true,
  actorId: true,
  actorLabel: true,
  at: true,
  completedAt: true,
  rollbackPhase: true,
  rollbackBackupKind: true,
  restoreId: true,
  preRestoreBackupId: true,
} as const;

/** One target's history (omitted = `default`), newest first. */
export async function listDeployments(ctx: Pick<BackupContext, "db">, q: { limit: number; offset: number; target?: string }) {
  const { id: targetId } = await requireTarget(ctx.db, q.target);
  const [rows, total] = await Promise.all([
    ctx.db.deployment.findMany({ where: { targetId }, select: listSelect, orderBy: [{ at: "desc" }, { id: "desc" }], take: q.limit, skip: q.offset }),
    ctx.db.deployment.count({ where: { targetId } }),
  ]);
  // The log's size without fetching it.
  const sizes = rows.length
    ? await ctx.db.$queryRaw<{ id: string; n: number }[]>`SELECT id, octet_length(log)::int AS n FROM "Deployment" WHERE id = ANY(${rows.map((r) => r.id)})`
    : [];
  const size = new Map(sizes.map((s) => [s.id, s.n]));
  const backups = await backupsById(ctx, rows.map((r) => r.backupId));
  const deployments = rows.map((r) => {
    const dto = toDeploymentDto({ ...r, log: "" }, r.backupId ? (backups.get(r.backupId) ?? null) : null);
    return { ...dto, logBytes: size.get(r.id) ?? 0 };
  });
  return { deployments, total, limit: q.limit, offset: q.offset };
}

/**
 * One record; with its log (the hook command and its raw output, which can name hosts,
 * paths or secrets) only when `withLog` — callers allowed "deployments.detail".
 */
export async function getDeployment(ctx: Pick<BackupContext, "db">, id: string, withLog = true): Promise<DeploymentDto> {
  const row = await ctx.db.deployment.findUnique({ where: { id }, include: { target: targetInclude } });
  if (!row) throw notFound("Deployment");
  const backups = await backupsById(ctx, [row.backupId]);
  return toDeploymentDto(row, row.backupId ? (backups.get(row.backupId) ?? null) : null, withLog);
}

export interface NewDeployment {
  type: DeploymentType;
  /** Omitted = `default`. */
  targetId?: string;
  commitSha: string;
  environment?: string;
  gateDecision: boolean;
  reasons?: string[];
  checks?: unknown;
  backupId?: string | null;
  status: DeploymentStatus;
  url?: string | null;
  log?: string;
  completedAt?: Date | null;
  rollback?: { phase: RollbackPhase; backupKind: BackupKind };
}

export async function createDeploymentRow(ctx: BackupContext, input: NewDeployment, who: Who, tx?: Prisma.TransactionClient) {
  const client = tx ?? ctx.db;
  const row = await client.deployment.create({
    data: {
      type: input.type,
      targetId: input.targetId,
      commitSha: input.commitSha,
      environment: input.environment ?? "production",
      gateDecision: input.gateDecision,
      reasons: input.reasons ?? [],
      checks: (input.checks ?? undefined) as Prisma.InputJsonValue | undefined,
      backupId: input.backupId ?? null,
      status: input.status,
      url: input.url ?? null,
      log: input.log ?? "",
      actorId: who.userId,
      actorLabel: who.actor.label ?? who.actor.type,
      completedAt: input.completedAt ?? null,
      rollbackPhase: input.rollback?.phase ?? null,
      rollbackBackupKind: input.rollback?.backupKind ?? null,
    },
  });
  if (!tx) await mirrorDeployment(ctx, row.id);
  return row;
}

export async function updateDeployment(
  ctx: BackupContext,
  id: string,
  data: {
    status?: DeploymentStatus;
    reasons?: string[];
    checks?: unknown;
    completedAt?: Date | null;
    backupId?: string | null;
    rollbackPhase?: RollbackPhase;
  },
) {
  await ctx.db.deployment.update({
    where: { id },
    data: { ...data, checks: data.checks === undefined ? undefined : (data.checks as Prisma.InputJsonValue) },
  });
  await mirrorDeployment(ctx, id);
}

/** Records a deploy done elsewhere (CI), linked to the newest ALLOWED gate decision for its commit. */
export async function recordDeployment(ctx: BackupContext, input: CreateDeploymentInput, who: Who): Promise<DeploymentDto> {
  const since = new Date(Date.now() - 24 * 3600_000);
  const target = await requireTarget(ctx.db, input.target);
  // Only a gate decision about the same target lets the deploy through.
  const gate = await ctx.db.deployment.findFirst({
    where: { targetId: target.id, commitSha: input.commitSha, status: "ALLOWED", at: { gte: since } },
    orderBy: { at: "desc" },
  });
  const row = await createDeploymentRow(
    ctx,
    {
      type: "RECORD",
      targetId: target.id,
      commitSha: input.commitSha,
      environment: input.environment ?? gate?.environment,
      gateDecision: !!gate,
      reasons: gate ? [] : [`No ALLOWED gate decision for ${input.commitSha} in the last 24 h`],
      backupId: gate?.backupId ?? null,
      status: input.status,
      url: input.url ?? null,
      completedAt: new Date(),
    },
    who,
  );
  await audit(ctx.db, {
    actor: who.actor,
    action: "deployment.recorded",
    target: row.id,
    targetId: target.id,
    details: { commitSha: row.commitSha, environment: row.environment, target: target.name, status: row.status, gateDeploymentId: gate?.id ?? null },
  });
  return getDeployment(ctx, row.id);
}

/** Unfinished deploys or rollbacks (at most one runs at a time). */
export async function runningDeployment(ctx: Pick<BackupContext, "db">) {
  return ctx.db.deployment.findFirst({ where: { status: "RUNNING" }, orderBy: { at: "desc" }, select: { id: true, type: true, at: true } });
}

/**
 * After a restore of Vaultline's own database the Deployment table is as old as the
 * backup: re-insert or bring forward every record storage holds.
 */
export async function reconcileDeployments(ctx: BackupContext): Promise<number> {
  const known = new Map((await ctx.db.deployment.findMany({ select: { id: true, status: true, completedAt: true } })).map((r) => [r.id, r]));
  const userIds = new Set((await ctx.db.user.findMany({ select: { id: true } })).map((u) => u.id));
  const targetIds = new Set((await ctx.db.target.findMany({ select: { id: true } })).map((t) => t.id));
  let n = 0;
  for await (const o of ctx.storage.list(deploymentsPrefix(ctx))) {
    try {
      const r = JSON.parse((await ctx.storage.getBytes(o.key)).toString("utf8")) as DeploymentRecord;
      const have = known.get(r.id);
      if (have && have.status === r.status && (have.completedAt?.toISOString() ?? null) === r.completedAt) continue;
      const cols = legacyRecordColumns(r);
      const data = {
        ...cols,
        checks: (cols.checks ?? undefined) as Prisma.InputJsonValue | undefined,
        // A record of a target deleted since keeps nothing to point at: the column default.
        targetId: r.targetId && targetIds.has(r.targetId) ? r.targetId : undefined,
        commitSha: r.commitSha,
        environment: r.environment,
        gateDecision: r.gateDecision,
        reasons: r.reasons,
        backupId: r.backupId,
        status: r.status,
        url: r.url,
        log: r.log,
        actorId: r.actorId && userIds.has(r.actorId) ? r.actorId : null,
        actorLabel: r.actorLabel,
        at: new Date(r.at),
        completedAt: r.completedAt ? new Date(r.completedAt) : null,
      };
      if (have) await ctx.db.deployment.update({ where: { id: r.id }, data });
      else await ctx.db.deployment.create({ data: { id: r.id, ...data } });
      n++;
    } catch (e) {
      log.error({ key: o.key, err: (e as Error).message }, "could not re-insert a deployment record");
    }
  }
  if (n) log.info({ deployments: n }, "deployment records reconciled from storage");
  return n;
}
