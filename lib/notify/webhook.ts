// Webhook delivery: JSON POST, HMAC-signed when a secret is configured, retried with
// exponential backoff on network errors, timeouts, 408, 429 and 5xx. Other answers are
// the receiver's final word (a revoked Slack URL answers 404 forever).
import { createHmac } from "node:crypto";
import { componentLogger } from "../log";

export const SIGNATURE_HEADER = "X-Vaultline-Signature";
export const TIMESTAMP_HEADER = "X-Vaultline-Timestamp";

export interface WebhookOptions {
  secret?: string;
  /** Retries after the first attempt: retries=3 means at most 4 requests. */
  retries?: number;
  fetchImpl?: typeof fetch;
  /** First backoff; doubles each retry. */
  backoffMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** Applied to an error before it is logged (a receiver may echo the secret URL back). */
  redact?: (text: string) => string;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

const log = componentLogger("notify");
const MAX_BACKOFF_MS = 30_000;

/**
 * `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). The timestamp is in the
 * signed text so a captured request cannot be replayed later with a fresh header.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

// Webhook URLs often carry their credential in the path (Slack, Discord); log the origin only.
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "[invalid url]";
  }
}

function describeError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return `timed out after ${timeoutMs} ms`;
    const cause = (e as Error & { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) return `${e.message}: ${cause.message}`;
    return e.message;
  }
  return String(e);
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

function retryAfterMs(res: Response): number | undefined {
  const header = res.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs `payload` as JSON. Never throws; the result says what happened. */
export async function sendWebhook(url: string, payload: unknown, opts: WebhookOptions = {}): Promise<WebhookResult> {
  return postWithRetry(url, { body: JSON.stringify(payload), headers: { "Content-Type": "application/json" } }, opts);
}

/**
 * POSTs `body` with `headers` (each chat service's own format, lib/notify/formats.ts),
 * signed when `secret` is set, with the retries above. Never throws.
 */
export async function postWithRetry(
  url: string,
  request: { body: string; headers: Record<string, string> },
  { secret, retries = 3, fetchImpl = fetch, backoffMs = 1000, timeoutMs = 10_000, redact = (t) => t }: WebhookOptions = {},
): Promise<WebhookResult> {
  const { body } = request;
  const origin = webhookOrigin(url);
  const maxAttempts = Math.max(0, Math.floor(retries)) + 1;
  let last: WebhookResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const headers: Record<string, string> = {
      "User-Agent": "Vaultline-Webhook/1",
      ...request.headers,
    };
    if (secret) {
      // Re-signed per attempt: receivers reject stale timestamps, and a retry after
      // backoff is a fresh request.
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers[TIMESTAMP_HEADER] = timestamp;
      headers[SIGNATURE_HEADER] = signWebhook(secret, timestamp, body);
    }
    let wait: number | undefined;
    try {
      const res = await fetchImpl(url, {
        method: "POST",
        headers,
        body,
        // A redirect would carry the signed body somewhere the admin did not configure.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Reading the body releases the connection; its text helps diagnose a refusal.
      const text = await res.text().catch(() => "");
      if (res.ok) return { ok: true, attempts: attempt, status: res.status };
      last = {
        ok: false,
        attempts: attempt,
        status: res.status,
        error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      };
      if (!retryable(res.status)) break;
      wait = retryAfterMs(res);
    } catch (e) {
      last = { ok: false, attempts: attempt, error: describeError(e, timeoutMs) };
    }
    if (attempt < maxAttempts) {
      const delay = Math.min(wait ?? backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      log.warn({ origin, attempt, maxAttempts, status: last.status, error: last.error && redact(last.error), delayMs: delay }, "webhook attempt failed; retrying");
      await sleep(delay);
    }
  }
  return last;
}
