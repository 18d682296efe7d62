// The HTTP server in front of Next (scripts/serve.ts), for two things `next start` does
// not offer (issue 12 §2, §8):
// - the TCP peer's address, passed to handlers in PEER_HEADER (any value a client sent is
//   replaced), so sign-in throttling does not have to believe X-Forwarded-For;
// - keepAliveTimeout and headersTimeout from the configuration. Node's 5 s keep-alive is
//   shorter than the idle timeout of most load balancers and HTTP clients: a request sent
//   on a connection we are closing at that moment is reset instead of answered;
// - a bound on the request target (MAX_REQUEST_TARGET_BYTES).
import http from "node:http";
import { PEER_HEADER } from "./client-ip";
import { errorBody } from "./errors";

/**
 * The longest request target (path + query) answered; longer ones get 414. Every URL the
 * dashboard and the API make is under 1 KiB. The bound exists because Next echoes the
 * target twice when it normalises a path (a 308 with `Location` and `Refresh`): a 15 KB
 * URL made a 30 KB header block that HTTP clients refuse (undici and Node stop at 16 KiB,
 * "Headers Overflow Error") — a request that was never answered. Twice this bound plus
 * the other headers stays under 16 KiB.
 */
export const MAX_REQUEST_TARGET_BYTES = 6144;

/** Set in the serving process: handlers believe PEER_HEADER only when our server set it. */
export const PEER_HEADER_ENV = "VAULTLINE_PEER_HEADER";

export function createHttpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown,
  opts: { keepAliveTimeoutMs: number; headersTimeoutMs: number },
): http.Server {
  if (opts.headersTimeoutMs <= opts.keepAliveTimeoutMs) throw new Error("headersTimeout must be above keepAliveTimeout");
  const server = http.createServer((req, res) => {
    if (Buffer.byteLength(req.url ?? "") > MAX_REQUEST_TARGET_BYTES) {
      const body = JSON.stringify(errorBody("URI_TOO_LONG", `The request URL is longer than ${MAX_REQUEST_TARGET_BYTES} bytes`));
      res.writeHead(414, { "content-type": "application/json", "x-content-type-options": "nosniff", "cache-control": "no-store" });
      res.end(body);
      return;
    }
    req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
    return handler(req, res);
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  server.headersTimeout = opts.headersTimeoutMs;
  // Node refuses a request timeout shorter than the headers timeout.
  if (server.requestTimeout > 0 && server.requestTimeout < opts.headersTimeoutMs) server.requestTimeout = opts.headersTimeoutMs;
  return server;
}
