// Where sign-in may send the browser back to: a path on this site only. Absolute URLs
// (https://evil.example), protocol-relative ones (//evil.example, /\evil.example) and
// anything that resolves to another origin are refused, as are the API and the login
// page itself.
const FALLBACK = "/overview";
const BASE = "http://vaultline.invalid";

export function safeCallbackPath(value: string | null | undefined, fallback = FALLBACK): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  // Control characters and backslashes are how browsers get tricked into another host.
  if (/[\u0000-\u001f\\]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  if (url.pathname === "/login" || url.pathname.startsWith("/api/")) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
