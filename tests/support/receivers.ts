// Loopback receivers for notification and deploy-hook tests: an HTTP server that records
// webhook requests, checks their HMAC signature (computed here, independently of the
// sender) and can fail, hang or refuse on purpose; and an SMTP server (smtp-server) that
// records mail.
import http from "node:http";
import net from "node:net";
import { createHmac, timingSafeEqual } from "node:crypto";
import { SMTPServer } from "smtp-server";
import type { WebhookPayload } from "../../lib/notify/messages";
import { freePort } from "../../lib/embedded-postgres";

export interface ReceivedHook {
  at: number;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body read as JSON (null when it is not JSON). */
  payload: WebhookPayload;
  /** null: the request carried no signature (or no secret was given to check it); false: wrong, partial or over 60 s old. */
  signatureValid: boolean | null;
}

export interface HookReceiver {
  url: string;
  hooks: ReceivedHook[];
  /** Answer 500 to this many requests before answering `status`. */
  failFirst: number;
  /** The status answered once failFirst is used up (200 by default). */
  status: number;
  /** Never answer (to exercise a sender's timeout). */
  hang: boolean;
  close(): Promise<void>;
}

// Computed here, independently of lib/notify/webhook.ts, so a wrong signer fails.
function verifySignature(secret: string | undefined, headers: http.IncomingHttpHeaders, body: string): boolean | null {
  const sig = headers["x-vaultline-signature"];
  const ts = headers["x-vaultline-timestamp"];
  if (!secret || (sig === undefined && ts === undefined)) return null;
  if (typeof sig !== "string" || typeof ts !== "string") return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 60) return false;
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`);
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A webhook endpoint on loopback at `path`, answering with `okBody` (or 500 "boom", or "no"). */
export async function startHookReceiver(
  secret?: string,
  opts: { path?: string; status?: number; okBody?: string; errorBody?: string } = {},
): Promise<HookReceiver> {
  const hanging = new Set<http.ServerResponse>();
  const receiver = { hooks: [] as ReceivedHook[], failFirst: 0, status: opts.status ?? 200, hang: false } as HookReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let payload: WebhookPayload;
      try {
        payload = JSON.parse(body) as WebhookPayload;
      } catch {
        payload = null as unknown as WebhookPayload;
      }
      receiver.hooks.push({ at: Date.now(), method: req.method ?? "", headers: req.headers, body, payload, signatureValid: verifySignature(secret, req.headers, body) });
      if (receiver.hang) {
        hanging.add(res);
        return;
      }
      if (receiver.hooks.length <= receiver.failFirst) res.writeHead(500, { "content-type": "text/plain" }).end("boom");
      else if (receiver.status === 200) res.writeHead(200, { "content-type": "text/plain" }).end(opts.okBody ?? "ok");
      else res.writeHead(receiver.status, { "content-type": "text/plain" }).end(opts.errorBody ?? "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  receiver.url = `http://127.0.0.1:${port}${opts.path ?? "/hooks/vaultline"}`;
  receiver.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

export interface Mail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  /** The text/plain body, decoded. */
  body: string;
}

export async function startSmtp(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const { headers, body } = parseMail(raw);
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers,
          subject: headers.subject ?? "",
          body,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as net.AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Enough MIME for nodemailer's text/plain: headers, then the body decoded from
// quoted-printable when nodemailer chose it.
export function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.slice(split + 4);
  if (/quoted-printable/i.test(headers["content-transfer-encoding"] ?? "")) {
    body = Buffer.from(
      body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    ).toString("utf8");
  }
  return { headers, body: body.replace(/\r\n/g, "\n") };
}

/** A loopback port nothing listens on: bound, then released. */
export const closedPort = freePort;
