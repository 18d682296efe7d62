// The production server `npm start` runs (scripts/start.ts spawns scripts/web-entry.mjs,
// which loads this file with tsx and then unregisters tsx): Next's request
// handler behind our own HTTP server (lib/http-server.ts) — the TCP peer for sign-in
// throttling, and keep-alive/headers timeouts from the configuration.
// WEB_CONCURRENCY > 1: several such processes share the port (lib/web-cluster.ts).
import cluster from "node:cluster";
import next from "next";
import { parseConfig } from "../lib/config";
import { createHttpServer, PEER_HEADER_ENV } from "../lib/http-server";
import { startWebCluster, WEB_INDEX_ENV } from "../lib/web-cluster";

const cfg = parseConfig();
process.env[PEER_HEADER_ENV] = "1";

if (cfg.WEB_CONCURRENCY > 1 && cluster.isPrimary) {
  startWebCluster({ processes: cfg.WEB_CONCURRENCY, workerInWeb: cfg.WORKER_IN_WEB });
} else {
  const app = next({ dev: false, dir: process.cwd(), port: cfg.PORT, hostname: "localhost" });
  await app.prepare();
  const handle = app.getRequestHandler();
  const server = createHttpServer((req, res) => handle(req, res), {
    keepAliveTimeoutMs: cfg.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
    headersTimeoutMs: cfg.httpHeadersTimeoutSeconds * 1000,
  });
  server.listen(cfg.PORT, () => {
    console.log(`[vaultline] ${cluster.isPrimary ? "listening" : `web process ${process.env[WEB_INDEX_ENV]} listening`} on port ${cfg.PORT}`);
  });

  const stop = () => {
    server.close();
    server.closeAllConnections();
    void app.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
