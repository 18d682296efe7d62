// PostgreSQL's text cannot hold U+0000: a string with one fails the Prisma write or query
// that carries it with 22021 "invalid byte sequence" — a 500 for a caller's typo or probe.
// Each input channel refuses it before anything reads the database (decision 205): proxy.ts
// the path and the query, lib/http.ts parseBody a JSON body, the sign-in route its form.
export const NUL_MESSAGE = "contains a NUL character (U+0000), which text here cannot hold";

export const hasNul = (s: string): boolean => s.includes("\u0000");

/** The first name of name=value pairs (a query, a form) whose name or value holds a NUL, written with %00; null when none does. */
export function nulParam(pairs: Iterable<[string, string]>): string | null {
  for (const [k, v] of pairs) if (hasNul(k) || hasNul(v)) return k.replaceAll("\u0000", "%00");
  return null;
}

/**
 * Where a parsed JSON value holds a NUL: the dotted path of a string or key with one (`""`
 * for the value itself), or null when none has one. Walks with a stack, not
 * recursion: a 64 KiB body can nest 30 000 arrays deep.
 */
export function nulPath(value: unknown): string | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  const join = (path: string, k: string | number) => (path ? `${path}.${k}` : String(k));
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (hasNul(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: join(path, i) });
    } else if (v && typeof v === "object") {
      const entries = Object.entries(v);
      for (const [k] of entries) if (hasNul(k)) return join(path, k.replaceAll("\u0000", "\\u0000"));
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i][1], path: join(path, entries[i][0]) });
    }
  }
  return null;
}
