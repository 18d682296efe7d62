// Loopback notification receivers for wiring tests: an HTTP server that records webhook
// requests and checks their HMAC signature (computed here, independently of the sender),
// and an SMTP server (smtp-server) that records mail.
import http from "node:http";
import net from "node:net";
import { createHmac, timingSafeEqual } from "node:crypto";
import { SMTPServer } from "smtp-server";
import type { WebhookPayload } from "../../lib/notify/messages";
import { freePort } from "../../lib/embedded-postgres";

export interface ReceivedHook {
  at: number;
  payload: WebhookPayload;
  signatureValid: boolean | null;
}

export interface HookReceiver {
  url: string;
  hooks: ReceivedHook[];
  close(): Promise<void>;
}

export async function startHookReceiver(secret?: string): Promise<HookReceiver> {
  const hooks: ReceivedHook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let signatureValid: boolean | null = null;
      const sig = req.headers["x-vaultline-signature"];
      const ts = req.headers["x-vaultline-timestamp"];
      if (secret && typeof sig === "string" && typeof ts === "string") {
        const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`);
        const got = Buffer.from(sig);
        signatureValid = got.length === want.length && timingSafeEqual(got, want);
      } else if (secret) signatureValid = false;
      hooks.push({ at: Date.now(), payload: JSON.parse(body) as WebhookPayload, signatureValid });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/vaultline`,
    hooks,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
