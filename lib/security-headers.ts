// Response headers on every page and API answer (issue 12 §6), set in proxy.ts.
// Next's own inline bootstrap scripts need 'unsafe-inline' (nonces would force every page
// to render dynamically); scripts from any other origin, framing, plugins, <base> and
// cross-origin form targets are refused. HSTS only when the public URL is https: sending
// it over http would be ignored, and pinning a localhost name to https breaks `npm start`.
export function securityHeaders(opts: { https: boolean; dev: boolean }): Record<string, string> {
  const csp = [
    "default-src 'self'",
    // Dev: React's refresh runtime evaluates code and talks over a websocket.
    `script-src 'self' 'unsafe-inline'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    ...(opts.https ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}
