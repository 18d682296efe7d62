// The deploy and rollback hooks an operator configures: a shell command (DEPLOY_COMMAND /
// ROLLBACK_COMMAND, run with `/bin/sh -c` and VAULTLINE_COMMIT in its environment) and/or
// a webhook (DEPLOY_WEBHOOK_URL / ROLLBACK_WEBHOOK_URL, POST {commitSha, event}). Output
// streams into the deployment log; HOOK_TIMEOUT_SECONDS kills the whole process group.
import { spawn } from "node:child_process";
import type { Config } from "../config";
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookOrigin } from "../notify/webhook";
import type { HookKind } from "../validation/deploy";

export interface HookConfig {
  command?: string;
  webhookUrl?: string;
  timeoutMs: number;
  /** WEBHOOK_SECRET: signs the webhook body like notifications do. */
  webhookSecret?: string;
}

export interface DeployHooks {
  deploy: HookConfig;
  rollback: HookConfig;
}

export function hooksFromConfig(c: Pick<Config, "DEPLOY_COMMAND" | "DEPLOY_WEBHOOK_URL" | "ROLLBACK_COMMAND" | "ROLLBACK_WEBHOOK_URL" | "HOOK_TIMEOUT_SECONDS" | "WEBHOOK_SECRET">): DeployHooks {
  const timeoutMs = c.HOOK_TIMEOUT_SECONDS * 1000;
  return {
    deploy: { command: c.DEPLOY_COMMAND, webhookUrl: c.DEPLOY_WEBHOOK_URL, timeoutMs, webhookSecret: c.WEBHOOK_SECRET },
    rollback: { command: c.ROLLBACK_COMMAND, webhookUrl: c.ROLLBACK_WEBHOOK_URL, timeoutMs, webhookSecret: c.WEBHOOK_SECRET },
  };
}

export function hookKind(h: HookConfig): HookKind | null {
  if (h.command && h.webhookUrl) return "command+webhook";
  if (h.command) return "command";
  if (h.webhookUrl) return "webhook";
  return null;
}

export interface HookInput {
  event: "deploy" | "rollback";
  commitSha: string;
  deploymentId: string;
  environment: string;
}

export interface HookOutput {
  write(text: string): void;
  step(text: string): void;
}

export interface HookResult {
  ok: boolean;
  reason?: string;
}

// Vaultline's own secrets stay out of the operator's script: it deploys the application,
// it has no business holding the backup passphrase or the session secret.
const WITHHELD_ENV = [
  "BACKUP_ENCRYPTION_PASSPHRASE",
  "NEXTAUTH_SECRET",
  "S3_SECRET_ACCESS_KEY",
  "S3_ACCESS_KEY_ID",
  "ADMIN_PASSWORD",
  "WEBHOOK_SECRET",
  "SMTP_URL",
  "DATABASE_URL",
  "TARGET_DATABASE_URL",
  "DRILL_DATABASE_URL",
];

function hookEnv(input: HookInput): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of WITHHELD_ENV) delete env[k];
  return {
    ...env,
    VAULTLINE_COMMIT: input.commitSha,
    VAULTLINE_EVENT: input.event,
    VAULTLINE_DEPLOYMENT_ID: input.deploymentId,
    VAULTLINE_ENVIRONMENT: input.environment,
  };
}

const KILL_GRACE_MS = 5000;

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs `/bin/sh -c command` in its own process group; never throws. */
export function runCommand(command: string, input: HookInput, timeoutMs: number, out: HookOutput, signal?: AbortSignal): Promise<HookResult> {
  return new Promise<HookResult>((resolve) => {
    const started = Date.now();
    out.step(`$ ${command}   (VAULTLINE_COMMIT=${input.commitSha}, timeout ${Math.round(timeoutMs / 1000)} s)`);
    let child;
    try {
      child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: hookEnv(input) });
    } catch (e) {
      resolve({ ok: false, reason: `could not start the command: ${(e as Error).message}` });
      return;
    }
    let stopReason: string | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: string) => {
      if (stopReason || child.pid === undefined) return;
      stopReason = why;
      out.step(`${why}; stopping the command (SIGTERM to its process group)`);
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => {
        out.step("still running; SIGKILL");
        killGroup(child.pid!, "SIGKILL");
      }, KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop(`timed out after ${Math.round(timeoutMs / 1000)} s (HOOK_TIMEOUT_SECONDS)`), timeoutMs);
    const onAbort = () => stop("cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.setEncoding("utf8").on("data", (s: string) => out.write(s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => out.write(s));

    let settled = false;
    const finish = (r: HookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      // Background children of a finished or killed command must not outlive it.
      if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      resolve(r);
    };
    child.on("error", (e) => finish({ ok: false, reason: `could not start the command: ${e.message}` }));
    child.on("exit", (code, sig) => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const r: HookResult = stopReason
        ? { ok: false, reason: `the command ${stopReason}` }
        : code === 0
          ? { ok: true }
          : { ok: false, reason: sig ? `the command was killed by ${sig}` : `the command exited with status ${code}` };
      // Let the pipes drain, but do not wait on a background child holding them open.
      const drained = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(r);
      }, 2000);
      child.once("close", () => {
        clearTimeout(drained);
        out.step(r.ok ? `command finished in ${secs} s` : `command failed after ${secs} s: ${r.reason!.replace(/^the command /, "")}`);
        finish(r);
      });
    });
  });
}

const MAX_RESPONSE_LOG = 64 * 1024;

/** One POST (a deploy is not retried blindly: a retry could deploy twice); never throws. */
export async function callWebhook(h: HookConfig & { webhookUrl: string }, input: HookInput, out: HookOutput, signal?: AbortSignal): Promise<HookResult> {
  const body = JSON.stringify({ commitSha: input.commitSha, event: input.event, deploymentId: input.deploymentId, environment: input.environment });
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "vaultline-deploy" };
  if (h.webhookSecret) {
    const ts = String(Math.floor(Date.now() / 1000));
    headers[TIMESTAMP_HEADER] = ts;
    headers[SIGNATURE_HEADER] = signWebhook(h.webhookSecret, ts, body);
  }
  // The URL may carry a credential in its path; the log shows the origin only.
  out.step(`POST ${webhookOrigin(h.webhookUrl)}/… {"commitSha":"${input.commitSha}","event":"${input.event}"}`);
  const timeout = AbortSignal.timeout(h.timeoutMs);
  try {
    const res = await fetch(h.webhookUrl, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text().catch(() => "");
    out.step(`webhook answered ${res.status}`);
    if (text) out.write(`${text.length > MAX_RESPONSE_LOG ? `${text.slice(0, MAX_RESPONSE_LOG)}\n[response truncated]` : text}\n`);
    return res.ok ? { ok: true } : { ok: false, reason: `the webhook answered ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why =
      timeout.aborted ? `timed out after ${Math.round(h.timeoutMs / 1000)} s (HOOK_TIMEOUT_SECONDS)` : `${err.message}${err.cause?.message ? `: ${err.cause.message}` : ""}`;
    out.step(`webhook failed: ${why}`);
    return { ok: false, reason: `the webhook failed: ${why}` };
  }
}

/** The command, then the webhook; the first failure ends the run. */
export async function runHook(h: HookConfig, input: HookInput, out: HookOutput, signal?: AbortSignal): Promise<HookResult> {
  if (!hookKind(h)) return { ok: false, reason: "no hook is configured" };
  if (h.command) {
    const r = await runCommand(h.command, input, h.timeoutMs, out, signal);
    if (!r.ok) return r;
  }
  if (h.webhookUrl) return callWebhook({ ...h, webhookUrl: h.webhookUrl }, input, out, signal);
  return { ok: true };
}
