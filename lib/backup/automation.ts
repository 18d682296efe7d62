// Registers what runs by itself in every worker — the schedule, retries, retention and
// notifications — and the backup health checks. Imported by extensions.ts; the logic
// lives in side-effect-free modules that tests drive directly.
import { registerWorkerExtension } from "./worker";
import { appContext } from "./context";
import { startScheduler } from "./schedule";
import { startRetries } from "./retries";
import { startRetention } from "./retention-run";
import { registerBackupHealthChecks } from "./health-checks";
import { sendNotification, startNotifications } from "../notify/wiring";
import { config } from "../config";
import type { NotifyConfig } from "../notify";

function notifyConfig(): NotifyConfig {
  const c = config();
  return { WEBHOOK_SECRET: c.WEBHOOK_SECRET, SMTP_URL: c.SMTP_URL, SMTP_FROM: c.SMTP_FROM };
}

registerWorkerExtension(async (ctx) => {
  const cfg = notifyConfig();
  const stopNotifications = startNotifications(ctx, { cfg });
  const stopRetries = startRetries(ctx);
  const stopRetention = startRetention(ctx, { notifier: (e) => sendNotification(ctx, e, cfg) });
  const stopScheduler = await startScheduler(ctx);
  return async () => {
    await stopScheduler();
    stopRetries();
    await stopRetention();
    await stopNotifications();
  };
});

registerBackupHealthChecks(appContext, () => config().STORAGE_WARN_BYTES);
