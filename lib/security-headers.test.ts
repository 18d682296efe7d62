import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { securityHeaders } from "./security-headers";

describe("securityHeaders", () => {
  it("refuses framing twice over (CSP frame-ancestors and X-Frame-Options) and sets the rest", () => {
    const h = securityHeaders({ https: false, dev: false });
    expect(h["x-frame-options"]).toBe("DENY");
    expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(h["referrer-policy"]).toBe("same-origin");
    expect(h["x-content-type-options"]).toBe("nosniff");
  });

  it("allows scripts from this origin only, and no eval outside development", () => {
    const csp = securityHeaders({ https: false, dev: false })["content-security-policy"];
    const script = csp.split("; ").find((d) => d.startsWith("script-src"))!;
    expect(script).toBe("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/\*|https?:/);
    expect(securityHeaders({ https: false, dev: true })["content-security-policy"]).toContain("'unsafe-eval'");
  });

  it("sends HSTS only when the dashboard is served over https", () => {
    expect(securityHeaders({ https: false, dev: false })).not.toHaveProperty("strict-transport-security");
    expect(securityHeaders({ https: true, dev: false })["strict-transport-security"]).toMatch(/^max-age=\d{7,}/);
  });
});

describe("docs/operations.md", () => {
  it("quotes the policy the header sends (it said 'scripts from this origin only' while inline scripts are allowed)", () => {
    const doc = readFileSync(path.join(import.meta.dirname, "../docs/operations.md"), "utf8");
    const paragraph = doc.slice(doc.indexOf("**Headers.**"), doc.indexOf("**Encryption key id.**"));
    expect(paragraph).toContain(securityHeaders({ https: false, dev: false })["content-security-policy"]);
  });
});
