// Runs before routing, on every request:
// - security headers (CSP, X-Frame-Options, …: lib/security-headers.ts) on every page and
//   API answer, HSTS when NEXTAUTH_URL is https — decided at run time, not at build time;
// - a path with a malformed percent-escape (`/api/backups/%zz`) makes Next answer 500
//   before any route handler runs; answer 400 in the contract's shape.
// Authentication is NOT done here: every handler and page checks it (STYLE.md §5).
import { NextResponse, type NextRequest } from "next/server";
import { ERROR_STATUS, errorBody } from "./lib/errors";
import { securityHeaders } from "./lib/security-headers";
import { config } from "./lib/config";

function headers(): Record<string, string> {
  const cfg = config();
  return securityHeaders({ https: cfg.NEXTAUTH_URL?.startsWith("https:") ?? false, dev: cfg.NODE_ENV === "development" });
}

export function proxy(req: NextRequest) {
  if (req.nextUrl.pathname.startsWith("/api/")) {
    try {
      decodeURIComponent(req.nextUrl.pathname);
    } catch {
      return NextResponse.json(errorBody("VALIDATION_FAILED", "The request path is not valid"), {
        status: ERROR_STATUS.VALIDATION_FAILED,
        headers: headers(),
      });
    }
  }
  const res = NextResponse.next();
  for (const [k, v] of Object.entries(headers())) res.headers.set(k, v);
  return res;
}
