// Structured JSON logs (pino). Every line carries `component`; job lines carry `jobId`.
// Secrets never reach a log: the redact list covers the fields that could hold them.
import pino from "pino";
import { editDbUrl } from "./pg-hosts";

export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { app: "vaultline" },
  redact: {
    paths: [
      "password",
      "passphrase",
      "token",
      "secret",
      "*.password",
      "*.passphrase",
      "*.token",
      "*.secret",
      "privateKey",
      "*.privateKey",
      "headers.authorization",
      "headers.cookie",
    ],
    censor: "[redacted]",
  },
});

export function componentLogger(component: string, bindings: Record<string, unknown> = {}) {
  return logger.child({ component, ...bindings });
}

/** Removes credentials from a connection string before it is logged or shown. */
export function redactUrl(url: string): string {
  try {
    return editDbUrl(url, (u) => {
      if (u.password) u.password = "***";
    });
  } catch {
    return "[unparseable url]";
  }
}
