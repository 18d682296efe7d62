// Announcements the web process makes itself (the worker's are wired in lib/notify/wiring.ts):
// a deploy the gate refused. Fire and forget: CI gets its 428 at once, whatever the
// channels do, and a failed delivery is recorded on its channel, never thrown.
import { config, type Config } from "../config";
import type { BackupContext, TargetRef } from "../backup/context";
import { componentLogger } from "../log";
import type { NotifyConfig, NotifyResult } from "./index";
import { notifyRouted } from "./channels";

const log = componentLogger("notify");

export const notifyConfigOf = (c: Pick<Config, "WEBHOOK_SECRET" | "SMTP_URL" | "SMTP_FROM">): NotifyConfig => ({ WEBHOOK_SECRET: c.WEBHOOK_SECRET, SMTP_URL: c.SMTP_URL, SMTP_FROM: c.SMTP_FROM });

/** Sends `deploy.blocked` when the gate said no. Returns the delivery (tests await it; routes need not). */
export function announceGateDecision(
  ctx: Pick<BackupContext, "db">,
  gate: { allowed: boolean; reasons: string[]; target?: TargetRef },
  commitSha: string,
  actor: string | null,
  cfg: NotifyConfig = notifyConfigOf(config()),
): Promise<NotifyResult | null> {
  if (gate.allowed) return Promise.resolve(null);
  return notifyRouted(ctx.db, { type: "deploy.blocked", commitSha, reasons: gate.reasons, actor, target: gate.target }, cfg).catch((e: unknown) => {
    log.error({ err: (e as Error).message, commitSha }, "deploy-blocked notification not sent");
    return null;
  });
}
