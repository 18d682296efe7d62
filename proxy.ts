// Runs before routing, on every request:
// - security headers (CSP, X-Frame-Options, …: lib/security-headers.ts) on every page and
//   API answer, HSTS when NEXTAUTH_URL is https — decided at run time, not at build time;
// - a path with a malformed percent-escape (`/api/backups/%zz`) makes Next answer 500
//   before any route handler runs; answer 400 in the contract's shape;
// - a NUL (`%00`) in an /api path or query would reach PostgreSQL, which refuses it (a 500):
//   400 here for every route at once (lib/nul-text.ts; JSON bodies: lib/http.ts parseBody).
// Authentication is NOT done here: every handler and page checks it (STYLE.md §5).
import { NextResponse, type NextRequest } from "next/server";
import { ERROR_STATUS, errorBody } from "./lib/errors";
import { securityHeaders } from "./lib/security-headers";
import { config } from "./lib/config";
import { hasNul, NUL_MESSAGE, nulParam } from "./lib/nul-text";

function headers(): Record<string, string> {
  const cfg = config();
  return securityHeaders({ https: cfg.NEXTAUTH_URL?.startsWith("https:") ?? false, dev: cfg.NODE_ENV === "development" });
}

/** Why an /api request's path or query cannot be served (with the query field at fault), or null. */
function apiUrlProblem(url: NextRequest["nextUrl"]): { message: string; field?: string } | null {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { message: "The request path is not valid" };
  }
  if (hasNul(path)) return { message: `The request path ${NUL_MESSAGE}` };
  const field = nulParam(url.searchParams);
  return field === null ? null : { message: `The query parameter "${field}" ${NUL_MESSAGE}`, field };
}

export function proxy(req: NextRequest) {
  const problem = req.nextUrl.pathname.startsWith("/api/") ? apiUrlProblem(req.nextUrl) : null;
  if (problem) {
    const details = problem.field === undefined ? undefined : { fields: [{ path: problem.field, message: NUL_MESSAGE }] };
    return NextResponse.json(errorBody("VALIDATION_FAILED", problem.message, details), { status: ERROR_STATUS.VALIDATION_FAILED, headers: headers() });
  }
  const res = NextResponse.next();
  for (const [k, v] of Object.entries(headers())) res.headers.set(k, v);
  return res;
}
