import path from "node:path";

/** True when `inner` is `outer` or inside it (resolved paths, links not followed). */
export function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  // "..foo" is a name inside `outer`; ".." and "../x" are above it.
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
