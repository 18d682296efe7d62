import { describe, expect, it } from "vitest";
import { csrfProblem, dashboardOrigin } from "./csrf";

const ORIGIN = "https://vault.example.com";
const h = (o: Record<string, string>) => new Headers(o);

describe("csrfProblem", () => {
  it("lets reads through whatever they carry", () => {
    for (const m of ["GET", "HEAD", "OPTIONS"]) expect(csrfProblem(m, h({ origin: "https://evil.example" }), ORIGIN)).toBeNull();
  });

  it("accepts the dashboard's own JSON writes (Origin, or Sec-Fetch-Site: same-origin)", () => {
    expect(csrfProblem("POST", h({ "content-type": "application/json", origin: ORIGIN }), ORIGIN)).toBeNull();
    expect(csrfProblem("PATCH", h({ "content-type": "application/json; charset=utf-8", origin: ORIGIN }), ORIGIN)).toBeNull();
    expect(csrfProblem("DELETE", h({ "content-type": "application/json", "sec-fetch-site": "same-origin" }), ORIGIN)).toBeNull();
  });

  it("refuses the issue's attack: text/plain from another origin", () => {
    expect(csrfProblem("POST", h({ "content-type": "text/plain", origin: "https://evil.example" }), ORIGIN)).toMatch(/Content-Type/);
  });

  it("refuses form posts, even from our own origin", () => {
    for (const type of ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]) {
      expect(csrfProblem("POST", h({ "content-type": type, origin: ORIGIN }), ORIGIN)).not.toBeNull();
    }
    expect(csrfProblem("POST", h({ origin: ORIGIN }), ORIGIN)).not.toBeNull();
  });

  it("refuses JSON from another origin, a look-alike origin, or with no origin at all", () => {
    const json = { "content-type": "application/json" };
    expect(csrfProblem("POST", h({ ...json, origin: "https://evil.example" }), ORIGIN)).toMatch(/Origin/);
    expect(csrfProblem("POST", h({ ...json, origin: "https://vault.example.com.evil.example" }), ORIGIN)).not.toBeNull();
    expect(csrfProblem("POST", h({ ...json, origin: "http://vault.example.com" }), ORIGIN)).not.toBeNull();
    expect(csrfProblem("POST", h({ ...json, origin: "null" }), ORIGIN)).not.toBeNull();
    expect(csrfProblem("PUT", h(json), ORIGIN)).not.toBeNull();
    expect(csrfProblem("POST", h({ ...json, "sec-fetch-site": "same-site" }), ORIGIN)).not.toBeNull();
    expect(csrfProblem("POST", h({ ...json, "sec-fetch-site": "cross-site" }), ORIGIN)).not.toBeNull();
  });

  it("compares origins, not URLs", () => {
    expect(dashboardOrigin("https://vault.example.com/")).toBe(ORIGIN);
    expect(dashboardOrigin("http://localhost:3000/some/path")).toBe("http://localhost:3000");
  });
});
