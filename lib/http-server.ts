// The HTTP server in front of Next (scripts/serve.ts), for two things `next start` does
// not offer (issue 12 §2, §8):
// - the TCP peer's address, passed to handlers in PEER_HEADER (any value a client sent is
//   replaced), so sign-in throttling does not have to believe X-Forwarded-For;
// - keepAliveTimeout and headersTimeout from the configuration. Node's 5 s keep-alive is
//   shorter than the idle timeout of most load balancers and HTTP clients: a request sent
//   on a connection we are closing at that moment is reset instead of answered.
import http from "node:http";
import { PEER_HEADER } from "./client-ip";

/** Set in the serving process: handlers believe PEER_HEADER only when our server set it. */
export const PEER_HEADER_ENV = "VAULTLINE_PEER_HEADER";

export function createHttpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown,
  opts: { keepAliveTimeoutMs: number; headersTimeoutMs: number },
): http.Server {
  if (opts.headersTimeoutMs <= opts.keepAliveTimeoutMs) throw new Error("headersTimeout must be above keepAliveTimeout");
  const server = http.createServer((req, res) => {
    req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
    return handler(req, res);
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  server.headersTimeout = opts.headersTimeoutMs;
  // Node refuses a request timeout shorter than the headers timeout.
  if (server.requestTimeout > 0 && server.requestTimeout < opts.headersTimeoutMs) server.requestTimeout = opts.headersTimeoutMs;
  return server;
}
