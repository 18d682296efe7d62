// Runs before routing. A path with a malformed percent-escape (`/api/backups/%zz`) makes
// Next answer 500 before any route handler runs; answer 400 in the contract's shape.
// Authentication is NOT done here: every handler and page checks it (STYLE.md §5).
import { NextResponse, type NextRequest } from "next/server";
import { ERROR_STATUS, errorBody } from "./lib/errors";

export function proxy(req: NextRequest) {
  try {
    decodeURIComponent(req.nextUrl.pathname);
  } catch {
    return NextResponse.json(errorBody("VALIDATION_FAILED", "The request path is not valid"), { status: ERROR_STATUS.VALIDATION_FAILED });
  }
  return NextResponse.next();
}

export const config = { matcher: ["/api/:path*"] };
