// One key grammar for every backend, so a key that works on S3 can never escape the
// root directory on local disk (and the other way round).
import { InvalidKeyError } from "./types";

/** Throws InvalidKeyError unless key is a relative, `/`-separated path with no `.`/`..` segment. */
export function assertSafeKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw new InvalidKeyError(String(key), "empty");
  if (key.length > 1024) throw new InvalidKeyError(key.slice(0, 40) + "…", "longer than 1024 characters");
  if (key.includes("\0")) throw new InvalidKeyError(key, "contains NUL");
  if (key.includes("\\")) throw new InvalidKeyError(key, "contains a backslash");
  if (key.startsWith("/")) throw new InvalidKeyError(key, "absolute path");
  for (const segment of key.split("/")) {
    if (segment === "") throw new InvalidKeyError(key, "empty path segment");
    if (segment === "." || segment === "..") throw new InvalidKeyError(key, "`.` or `..` segment");
  }
}

/** A list prefix may be empty or end in `/`, but must otherwise obey the key grammar. */
export function assertSafePrefix(prefix: string): void {
  if (prefix === "") return;
  assertSafeKey(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
}
