// Cross-site request forgery guard for cookie-authenticated writes (DESIGN §6). A browser
// attaches the session cookie to any site's form post or `text/plain` fetch; it sends
// `Content-Type: application/json` cross-origin only after a CORS preflight we never
// grant, and it always says where a write comes from (Origin, Sec-Fetch-Site). Bearer
// tokens are not sent by browsers on their own, so token requests are not checked.
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Why a cookie-authenticated request must be refused, or null when it may proceed. */
export function csrfProblem(method: string, headers: Headers, allowedOrigin: string): string | null {
  if (SAFE_METHODS.has(method.toUpperCase())) return null;
  const type = (headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") return "Cookie-authenticated writes must send Content-Type: application/json";
  const origin = headers.get("origin");
  if (origin !== null) {
    return origin === allowedOrigin ? null : `Origin ${JSON.stringify(origin.slice(0, 200))} is not this dashboard's`;
  }
  // Browsers that omit Origin on same-origin requests still send Sec-Fetch-Site.
  if (headers.get("sec-fetch-site") === "same-origin") return null;
  return "Cookie-authenticated writes need an Origin header naming this dashboard";
}

/** The origin ("https://host:port") of the dashboard's public URL. */
export function dashboardOrigin(publicUrl: string): string {
  return new URL(publicUrl).origin;
}
