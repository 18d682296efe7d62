import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpServer, MAX_REQUEST_TARGET_BYTES } from "./http-server";
import { PEER_HEADER } from "./client-ip";

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function get(port: number, headers: Record<string, string>, path = "/"): Promise<{ status?: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

describe("createHttpServer", () => {
  it("keeps idle connections 65 s by default settings and waits longer for headers", () => {
    server = createHttpServer(() => {}, { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 });
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(66_000);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
    expect(() => createHttpServer(() => {}, { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 65_000 })).toThrow();
  });

  it("tells handlers the real peer, replacing a forged peer header", async () => {
    server = createHttpServer((req, res) => res.end(String(req.headers[PEER_HEADER])), { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const { body } = await get(port, { [PEER_HEADER]: "6.6.6.6", "x-forwarded-for": "7.7.7.7" });
    expect(body).toBe("127.0.0.1");
  });

  it("announces the keep-alive timeout to clients", async () => {
    server = createHttpServer((_req, res) => res.end("ok"), { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const { headers } = await get(port, { connection: "keep-alive" });
    expect(headers["keep-alive"]).toBe("timeout=65");
  });

  it("answers 414 to a request target past the bound, so no answer can echo it into an oversized header block", async () => {
    // Fault suite, 10,000 hostile requests: `POST /api/backups/\\x?q=<15 KB>` got Next's 308
    // with the URL in Location and Refresh — 30 KB of headers the client could not read.
    let reached = 0;
    server = createHttpServer((_req, res) => {
      reached++;
      res.writeHead(308, { location: _req.url, refresh: `0;url=${_req.url}` }).end();
    }, { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000 });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const long = await get(port, {}, `/api/backups/x?q=${"a".repeat(15_000)}`);
    expect(long.status).toBe(414);
    expect(JSON.parse(long.body)).toMatchObject({ error: { code: "URI_TOO_LONG" } });
    expect(reached).toBe(0);
    const atBound = `/api/x?q=${"a".repeat(MAX_REQUEST_TARGET_BYTES - 9)}`;
    expect(atBound.length).toBe(MAX_REQUEST_TARGET_BYTES);
    const echoed = await get(port, {}, atBound);
    expect(echoed.status).toBe(308);
    expect(reached).toBe(1);
  });
});
