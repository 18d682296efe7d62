import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Runs in a child Node process: vitest has its own module loader.
describe("importTypeScript", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "import-ts-"));
    // Extensionless imports and a type annotation: what only tsx's hooks resolve and compile.
    writeFileSync(path.join(dir, "dep.ts"), "export const answer: number = 42;\n");
    writeFileSync(path.join(dir, "entry.ts"), 'import { answer } from "./dep";\nexport const got: number = answer;\n');
    writeFileSync(path.join(dir, "later.ts"), 'import { answer } from "./dep";\nexport const again: number = answer;\n');
    writeFileSync(path.join(dir, "required.ts"), "export const n: number = 1;\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads the TypeScript entry, then leaves module loading and stack traces as plain Node has them", () => {
    const helper = pathToFileURL(path.resolve("lib/import-typescript.mjs")).href;
    const script = `
      import { createRequire } from "node:module";
      const before = { sourceMaps: process.sourceMapsEnabled };
      const { importTypeScript } = await import(${JSON.stringify(helper)});
      const { got } = await importTypeScript(${JSON.stringify(pathToFileURL(path.join(dir, "entry.ts")).href)});
      let later;
      try { await import(${JSON.stringify(pathToFileURL(path.join(dir, "later.ts")).href)}); later = "loaded"; } catch (e) { later = e.code; }
      let laterRequire;
      try { createRequire(${JSON.stringify(path.join(dir, "x.js"))})("./required"); laterRequire = "loaded"; } catch (e) { laterRequire = e.code; }
      console.log(JSON.stringify({ got, later, laterRequire, sourceMaps: process.sourceMapsEnabled === before.sourceMaps }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      got: 42,
      // Without tsx, Node resolves neither an extensionless import nor require of a .ts file.
      later: "ERR_MODULE_NOT_FOUND",
      laterRequire: "MODULE_NOT_FOUND",
      sourceMaps: true,
    });
  });
});
