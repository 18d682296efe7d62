import { describe, expect, it } from "vitest";
import { decryptTargetUrl, encryptTargetUrl, TargetSecretError } from "./target-secret";

const SECRET = "a-secret-of-at-least-16";
const URL_ = "postgresql://shop:s3cr%40t@db.internal:5432/shop_prod?sslmode=require";

describe("target URLs at rest", () => {
  it("round-trips, and the stored form holds neither the password nor the host", () => {
    const blob = encryptTargetUrl(SECRET, URL_);
    expect(blob).toMatch(/^v1\./);
    expect(blob).not.toContain("s3cr");
    expect(blob).not.toContain("db.internal");
    expect(decryptTargetUrl(SECRET, blob)).toBe(URL_);
  });

  it("uses a fresh IV each time", () => {
    expect(encryptTargetUrl(SECRET, URL_)).not.toBe(encryptTargetUrl(SECRET, URL_));
  });

  it("refuses another secret and a tampered value, saying what to do", () => {
    const blob = encryptTargetUrl(SECRET, URL_);
    expect(() => decryptTargetUrl("another-secret-16chars", blob)).toThrow(TargetSecretError);
    expect(() => decryptTargetUrl("another-secret-16chars", blob)).toThrow(/enter the target's URL again/);
    const parts = blob.split(".");
    const body = Buffer.from(parts[3], "base64url");
    body[0] ^= 1;
    parts[3] = body.toString("base64url");
    expect(() => decryptTargetUrl(SECRET, parts.join("."))).toThrow(TargetSecretError);
    expect(() => decryptTargetUrl(SECRET, "v0.x.y.z")).toThrow(/unknown format/);
  });
});
