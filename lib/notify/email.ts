// Plain-text email through the SMTP server named by SMTP_URL (nodemailer). Options such
// as `?ignoreTLS=true` or `?requireTLS=true` ride in the URL, as nodemailer reads them.

// nodemailer's socket timeout defaults to an hour; a hung relay must not hold a worker.
const DEFAULT_TIMEOUTS_MS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
};

export interface EmailResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

/** Adds bounded timeouts unless the URL already sets them. */
export function smtpUrlWithTimeouts(smtpUrl: string, timeouts: Partial<typeof DEFAULT_TIMEOUTS_MS> = {}): string {
  const u = new URL(smtpUrl);
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") {
    throw new Error(`SMTP_URL must start with smtp:// or smtps://, not ${u.protocol}//`);
  }
  for (const [key, ms] of Object.entries({ ...DEFAULT_TIMEOUTS_MS, ...timeouts })) {
    if (!u.searchParams.has(key)) u.searchParams.set(key, String(ms));
  }
  return u.toString();
}

/** Sends one message to all of `to`. Throws when the server refuses it or is unreachable. */
export async function sendEmail(
  smtpUrl: string,
  from: string,
  to: string[],
  subject: string,
  text: string,
): Promise<EmailResult> {
  if (to.length === 0) return { messageId: "", accepted: [], rejected: [] };
  // Loaded on first use (~19 MB of RSS a worker that never mails should not carry; issue 14).
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport(smtpUrlWithTimeouts(smtpUrl));
  try {
    const info = await transport.sendMail({ from, to, subject, text });
    const addr = (a: string | { address: string }) => (typeof a === "string" ? a : a.address);
    return {
      messageId: info.messageId,
      accepted: (info.accepted ?? []).map(addr),
      rejected: (info.rejected ?? []).map(addr),
    };
  } finally {
    transport.close();
  }
}
