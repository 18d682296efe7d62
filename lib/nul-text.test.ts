import { describe, expect, it } from "vitest";
import { hasNul, nulPath } from "./nul-text";

describe("nulPath", () => {
  it("names the string or key that holds a NUL, at any depth", () => {
    expect(nulPath("a\u0000b")).toBe("");
    expect(nulPath({ kind: "QUICK", note: "a\u0000b" })).toBe("note");
    expect(nulPath({ decryptionKey: { privateKey: "k", passphrase: "\u0000" } })).toBe("decryptionKey.passphrase");
    expect(nulPath({ scopes: ["backups:read", "x\u0000"] })).toBe("scopes.1");
    expect(nulPath({ "a\u0000b": 1 })).toBe("a\\u0000b");
  });

  it("finds none in text without one (an escaped \\u0000 read as six characters is not one)", () => {
    expect(nulPath({ note: "a\\u0000b", n: 1, ok: true, none: null, list: [[], {}] })).toBeNull();
    expect(nulPath(JSON.parse('{"note":"%00"}'))).toBeNull();
    expect(hasNul("plain")).toBe(false);
  });

  it("walks a body nested as deep as 64 KiB allows without overflowing the stack", () => {
    const deep = JSON.parse("[".repeat(32_000) + '"\\u0000"' + "]".repeat(32_000));
    expect(nulPath(deep)).toBe(Array(32_000).fill(0).join("."));
  });
});
