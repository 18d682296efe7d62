import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { autoImplementMethods } from "next/dist/server/route-modules/app-route/helpers/auto-implement-methods";
import { HTTP_METHODS } from "next/dist/server/web/http";
import { isUnhandledMethod, ROUTE_METHODS } from "./route-methods";

const ROOT = path.resolve(import.meta.dirname, "..");
type Answer = (req: Request, ctx?: unknown) => Response | Promise<Response>;

function routeFiles(dir = path.join(ROOT, "app/api")): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = path.join(dir, e);
      return statSync(p).isDirectory() ? routeFiles(p) : e === "route.ts" ? [p] : [];
    });
}

const FALLBACK = path.join(ROOT, "app/api/[...path]/route.ts");
const files = routeFiles();
const url = (file: string) => `http://localhost/${path.relative(path.join(ROOT, "app"), path.dirname(file)).replace(/\[(\w+)\]/g, "cx0000000000000000000000")}`;

/** What Next serves for a route module: its exports, with HEAD and OPTIONS filled in where absent and a bare 405 for the rest. */
async function served(file: string) {
  const mod = (await import(/* @vite-ignore */ file)) as Record<string, Answer | undefined>;
  const handlers = Object.fromEntries(ROUTE_METHODS.filter((m) => typeof mod[m] === "function").map((m) => [m, mod[m]]));
  return { mod, table: autoImplementMethods(handlers) as unknown as Record<string, Answer> };
}

describe("every app/api route answers every method", () => {
  it("walks the route files, and knows every method Next routes", () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files).toContain(path.join(ROOT, "app/api/auth/[...nextauth]/route.ts"));
    expect([...ROUTE_METHODS].sort()).toEqual([...HTTP_METHODS].sort());
  });

  it.each(files.filter((f) => f !== FALLBACK).map((f) => [path.relative(ROOT, f), f]))(
    "%s: a method it has no handler for answers 405 in the contract's shape with Allow; OPTIONS 204 with the same Allow",
    async (_name, file) => {
      const { mod, table } = await served(file);
      const handled = ROUTE_METHODS.filter((m) => typeof mod[m] === "function" && !isUnhandledMethod(mod[m]));
      expect(handled.length).toBeGreaterThan(0);
      const allow = [...new Set([...handled, "OPTIONS", ...(handled.includes("GET") ? ["HEAD"] : [])])].sort().join(", ");
      for (const m of ROUTE_METHODS) {
        if (handled.includes(m)) continue;
        if (m === "HEAD" && handled.includes("GET")) {
          // Next answers HEAD with the GET handler (the body dropped): kept.
          expect(mod.HEAD, "HEAD is left to Next where GET is handled").toBeUndefined();
          expect(table.HEAD).toBe(mod.GET);
          continue;
        }
        const missing = `${m} has no answer: end the file with \`export const { …${m}… } = unhandledMethods({ ${handled.join(", ")} })\` (lib/route-methods.ts)`;
        expect(isUnhandledMethod(mod[m]), missing).toBe(true);
        expect(table[m], "Next serves the route's own answer").toBe(mod[m]);
        const res = await table[m](new Request(url(file), { method: m }));
        expect(res.headers.get("allow"), `${m} Allow`).toBe(allow);
        if (m === "OPTIONS") {
          expect(res.status).toBe(204);
          expect(await res.text()).toBe("");
          continue;
        }
        expect(res.status, m).toBe(405);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const body = await res.json();
        expect(body).toEqual({ error: { code: "METHOD_NOT_ALLOWED", message: expect.stringContaining(m) } });
        for (const h of handled) expect(body.error.message).toContain(h);
      }
    },
  );

  it("keeps the fallback's JSON 404 for every method on an unknown /api path", async () => {
    const { table } = await served(FALLBACK);
    for (const m of ROUTE_METHODS) {
      const res = await table[m](new Request("http://localhost/api/no-such-thing", { method: m }));
      expect(res.status, m).toBe(404);
      if (m !== "HEAD") expect((await res.json()).error.code).toBe("NOT_FOUND");
    }
  });
});
