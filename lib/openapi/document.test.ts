import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import { ENDPOINTS, errorStatuses, openApiDocument } from "./document";
import { discoverRoutes } from "../../tests/faults/cases/api";
import { PERMISSIONS } from "../permissions";

const ROOT = path.resolve(import.meta.dirname, "../..");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

interface RouteFile {
  /** OpenAPI form: [id] → {id}; a catch-all [...x] stays as written. */
  path: string;
  catchAll: boolean;
  methods: string[];
}

/** Every route.ts under app/api with the HTTP methods it exports (`export const GET`, `as GET`). */
function routeFiles(): RouteFile[] {
  const out: RouteFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir).sort()) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === "route.ts") {
        const src = readFileSync(p, "utf8");
        const url = "/" + path.relative(path.join(ROOT, "app"), path.dirname(p)).split(path.sep).join("/");
        const methods = METHODS.filter((m) => new RegExp(`export (const|async function) ${m}\\b|\\bas ${m}\\b`).test(src));
        out.push({ path: url.replace(/\[(?!\.\.\.)([^\]]+)\]/g, "{$1}"), catchAll: /\[\.\.\.[^\]]+\]/.test(url), methods });
      }
    }
  };
  walk(path.join(ROOT, "app/api"));
  return out;
}

/** /api/auth/[...nextauth] serves every path under /api/auth/. */
const prefixOf = (f: RouteFile) => f.path.replace(/\/\[\.\.\.[^\]]+\]$/, "/");

// app/api/[...path] answers the contract's JSON 404 to any path no other route handles:
// not an endpoint (the fault suite skips it for the same reason).
const isFallback = (f: RouteFile) => f.path === "/api/[...path]";

const doc = openApiDocument();
const documented = Object.entries(doc.paths ?? {}).flatMap(([p, item]) =>
  METHODS.filter((m) => (item as Record<string, unknown>)[m.toLowerCase()]).map((m) => ({ path: p, method: m })),
);

describe("the document covers app/api exactly", () => {
  const files = routeFiles();

  it("finds the routes it walks (the walk itself works)", () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.find((f) => f.path === "/api/backups/{id}")?.methods).toEqual(["GET", "DELETE"]);
    expect(files.find((f) => f.path === "/api/auth/[...nextauth]")).toMatchObject({ catchAll: true, methods: ["GET", "POST"] });
  });

  it("documents every exported handler of every route file", () => {
    const missing: string[] = [];
    for (const f of files.filter((f) => !isFallback(f))) {
      for (const m of f.methods) {
        const found = f.catchAll
          ? documented.some((d) => d.method === m && d.path.startsWith(prefixOf(f)))
          : documented.some((d) => d.method === m && d.path === f.path);
        if (!found) missing.push(`${m} ${f.path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("documents no path or method that no handler answers", () => {
    const handled = (d: { path: string; method: string }) =>
      files
        .filter((f) => !isFallback(f) && f.methods.includes(d.method))
        .some((f) => (f.catchAll ? d.path.startsWith(prefixOf(f)) : d.path === f.path));
    expect(documented.filter((d) => !handled(d)).map((d) => `${d.method} ${d.path}`)).toEqual([]);
    expect(documented.length).toBe(ENDPOINTS.length);
  });

  it("states the gate each handler's source declares (the fault suite's reading of withAuth)", () => {
    const { routes, unclassified } = discoverRoutes(ROOT);
    expect(unclassified).toEqual([]);
    const declared = new Map(routes.map((r) => [`${r.method} ${r.path.replace(/:id/g, "{id}")}`, r.gate]));
    const stated = new Map(ENDPOINTS.filter((e) => e.tag !== "Auth").map((e) => [`${e.method.toUpperCase()} ${e.path}`, e.gate]));
    expect(Object.fromEntries(stated)).toEqual(Object.fromEntries(declared));
  });

  it("carries the permission table in each operation's security", () => {
    const gate = doc.paths!["/api/deploy/gate"]!.post!;
    expect(gate.security).toEqual([{ sessionCookie: ["OPERATOR"] }, { bearerToken: ["deploy"] }]);
    expect(doc.paths!["/api/tokens"]!.get!.security).toEqual([{ sessionCookie: ["ADMIN"] }]);
    expect(doc.paths!["/api/openapi.json"]!.get!.security).toEqual([{ sessionCookie: [] }, { bearerToken: [] }]);
    expect(doc.paths!["/api/health"]!.get!.security).toEqual([]);
    for (const e of ENDPOINTS) {
      if (e.gate === "public" || e.gate === "signed-in") continue;
      const op = (doc.paths![e.path] as Record<string, { security: Record<string, string[]>[] }>)[e.method];
      expect(op.security[0].sessionCookie).toEqual([PERMISSIONS[e.gate].role]);
    }
  });

  it("lists the error answers a gated handler can give", () => {
    const e = ENDPOINTS.find((x) => x.method === "post" && x.path === "/api/backups/{id}/restore")!;
    expect([...errorStatuses(e).keys()]).toEqual([400, 401, 403, 404, 409, 413, 422]);
    const op = doc.paths!["/api/backups/{id}/restore"]!.post!;
    expect(Object.keys(op.responses!).sort()).toEqual(["202", "400", "401", "403", "404", "409", "413", "422", "default"]);
  });
});

describe("request bodies", () => {
  // next-auth's forms are next-auth's to read (it takes more fields than the sign-in form's).
  const bodies = ENDPOINTS.filter((e) => e.body && e.tag !== "Auth");

  it("refuses a field it does not know, in every body (a typo is not dropped silently)", () => {
    expect(bodies.length).toBeGreaterThan(20);
    // A union's members each (a discriminated one stops at its discriminator otherwise).
    const members = (t: z.ZodType): z.ZodType[] => (t instanceof z.ZodUnion ? (t.options as z.ZodType[]).flatMap(members) : [t]);
    const refuses = (t: z.ZodType) => t.safeParse({ includefiles: true }).error?.issues.some((i) => i.code === "unrecognized_keys" && i.keys.includes("includefiles"));
    const lenient = bodies.filter((e) => !members(e.body!).every(refuses));
    expect(lenient.map((e) => `${e.method.toUpperCase()} ${e.path}`)).toEqual([]);
  });

  it("documents every object of every body closed (additionalProperties false), nested ones too", () => {
    const open: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
      if (!node || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      if (typeof o.$ref === "string") return walk(doc.components?.schemas?.[o.$ref.split("/").pop()!], o.$ref);
      if (o.type === "object" && o.properties && o.additionalProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    };
    for (const e of bodies) {
      const op = (doc.paths![e.path] as Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>)[e.method];
      walk(op.requestBody.content["application/json"].schema, `${e.method.toUpperCase()} ${e.path}`);
    }
    expect(open).toEqual([]);
  });

  it("documents a body optional where no body is a whole request (POST /api/backups queues a FULL backup), required elsewhere", () => {
    const required = (e: (typeof ENDPOINTS)[number]) =>
      (doc.paths![e.path] as Record<string, { requestBody: { required: boolean } }>)[e.method].requestBody.required;
    const backups = bodies.find((e) => e.method === "post" && e.path === "/api/backups")!;
    expect(required(backups)).toBe(false);
    expect(backups.body!.parse({})).toEqual({ kind: "FULL" });
    for (const e of bodies) {
      if (e.bodyOptional) expect(e.body!.safeParse({}).success, `${e.method} ${e.path} takes {}`).toBe(true);
      else expect(required(e), `${e.method} ${e.path}`).toBe(true);
    }
  });
});

describe("the document is valid OpenAPI 3.1", () => {
  it("passes the OpenAPI 3.1 schema", async () => {
    const v = new Validator();
    const res = await v.validate(JSON.parse(JSON.stringify(doc)));
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect(v.version).toBe("3.1");
  });

  it("is refused by the same validator when broken (the check can fail)", async () => {
    const broken = JSON.parse(JSON.stringify(doc));
    delete broken.paths["/api/backups"].get.responses;
    broken.paths["/api/today"].get.parameters = [{ in: "query" }];
    const res = await new Validator().validate(broken);
    expect(res.valid).toBe(false);
  });

  it("has a unique operationId per operation", () => {
    const ids = documented.map((d) => (doc.paths![d.path] as Record<string, { operationId: string }>)[d.method.toLowerCase()].operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("postDeployGate");
  });

  it("generates types with openapi-typescript that a gate client type-checks against (docs/operations.md)", async () => {
    const types = astToString(await openapiTS(JSON.parse(JSON.stringify(doc))));
    expect(types).toContain('"/api/deploy/gate"');
    const dir = mkdtempSync(path.join(tmpdir(), "vaultline-openapi-ts-"));
    try {
      writeFileSync(path.join(dir, "vaultline.d.ts"), types);
      const client = (narrowed: boolean) => `
        import type { paths } from "./vaultline";
        type Gate = paths["/api/deploy/gate"]["post"];
        type Allowed = Gate["responses"][200]["content"]["application/json"];
        type Blocked = Gate["responses"][428]["content"]["application/json"];
        const body: Gate["requestBody"]["content"]["application/json"] = { commitSha: "abc1234", require: "FULL", createIfMissing: true, waitSeconds: 600 };
        declare function post(url: string, token: string, body: string): Promise<unknown>;
        export async function gate(token: string): Promise<string[]> {
          const answer = (await post("http://vaultline/api/deploy/gate", token, JSON.stringify(body))) as Allowed | Blocked;
          ${narrowed ? "if (answer.allowed) return [answer.deploymentId];" : ""}
          const code: "BACKUP_REQUIRED" = answer.error.code;
          return [...answer.reasons, code];
        }`;
      const diagnostics = (narrowed: boolean) => {
        writeFileSync(path.join(dir, "gate.ts"), client(narrowed));
        const program = ts.createProgram([path.join(dir, "gate.ts")], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ["lib.es2022.d.ts"], types: [] });
        return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      };
      expect(diagnostics(true)).toEqual([]);
      // Without narrowing on `allowed`, the 200 answer has no reasons: the types are real.
      expect(diagnostics(false).join()).toMatch(/reasons|error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
