// Whether one path is another or inside it, by segments: one rule for the server's checks
// (lib/path-within.ts, on resolved paths) and the browser's form (lib/validation/targets.ts).

/**
 * `inner` is `outer` or inside it, both absolute POSIX paths, by their segments (no file
 * system, no node imports: the targets form runs it in the browser, and lib/path-within.ts
 * runs it on resolved paths).
 */
export function isInsidePosix(inner: string, outer: string): boolean {
  if (!inner.startsWith("/") || !outer.startsWith("/")) return false;
  const segments = (p: string) => {
    const out: string[] = [];
    for (const s of p.split("/")) {
      if (!s || s === ".") continue;
      if (s === "..") out.pop();
      else out.push(s);
    }
    return out;
  };
  const i = segments(inner);
  const o = segments(outer);
  return o.length <= i.length && o.every((s, k) => i[k] === s);
}
