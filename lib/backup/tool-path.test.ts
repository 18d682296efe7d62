import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOOL_PATH_TTL_MS, toolPath, toolVersionLine } from "./tool-path";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tool-path-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script at `file` that prints `line` (and counts its runs in `file.runs`). */
function script(file: string, line: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho run >> "${file}.runs"\necho '${line}'\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Debian's layout in miniature: PATH/pg_restore → share/pg_wrapper; root/<v>/bin/pg_restore. */
function debianLike(wrapperSays: string, versioned?: { major: string; says: string }) {
  // A directory of its own each time: answers are kept per PATH and root.
  const home = mkdtempSync(path.join(dir, "host-"));
  const wrapper = script(path.join(home, "share", "pg_wrapper"), wrapperSays);
  mkdirSync(path.join(home, "bin"));
  symlinkSync(wrapper, path.join(home, "bin", "pg_restore"));
  const binRoot = path.join(home, "root") + "/";
  if (versioned) script(path.join(binRoot, versioned.major, "bin", "pg_restore"), versioned.says);
  return { pathEnv: path.join(home, "bin"), binRoot, wrapper };
}

const V15 = "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)";

describe("toolPath", () => {
  it("runs the binary the wrapper runs, <root><major>/bin/<tool>, and keeps its version answer (one start in all)", async () => {
    const d = debianLike(V15, { major: "15", says: V15 });
    const opts = { pathEnv: d.pathEnv, binRoot: d.binRoot };
    const direct = path.join(d.binRoot, "15", "bin", "pg_restore");
    await expect(toolPath("pg_restore", undefined, opts)).resolves.toBe(direct);
    await expect(toolVersionLine("pg_restore", undefined, opts)).resolves.toBe(V15);
    const runs = (f: string) => execFileSync("sh", ["-c", `cat "${f}.runs" 2>/dev/null | wc -l`], { encoding: "utf8" }).trim();
    expect([runs(d.wrapper), runs(direct)]).toEqual(["1", "0"]);
  });

  it("keeps the name when the wrapper's version has no binary under the root, and still answers its version", async () => {
    const none = debianLike(V15, { major: "14", says: "pg_restore (PostgreSQL) 14.13" });
    const opts = { pathEnv: none.pathEnv, binRoot: none.binRoot };
    await expect(toolPath("pg_restore", undefined, opts)).resolves.toBe("pg_restore");
    await expect(toolVersionLine("pg_restore", undefined, opts)).resolves.toBe(V15);
  });

  it("keeps the name for a tool that is not the wrapper, one not on the PATH, and an unreadable answer", async () => {
    script(path.join(dir, "bin", "pg_restore"), V15);
    await expect(toolPath("pg_restore", undefined, { pathEnv: path.join(dir, "bin"), binRoot: dir + "/" })).resolves.toBe("pg_restore");
    await expect(toolPath("pg_restore", undefined, { pathEnv: path.join(dir, "nowhere"), binRoot: dir + "/" })).resolves.toBe("pg_restore");
    const odd = debianLike("something else entirely", { major: "15", says: "something else entirely" });
    await expect(toolPath("pg_restore", undefined, { pathEnv: odd.pathEnv, binRoot: odd.binRoot + "x/" })).resolves.toBe("pg_restore");
  });

  it("takes PG_BIN_DIR as given, without asking anything", async () => {
    const d = debianLike(V15, { major: "15", says: V15 });
    await expect(toolPath("pg_restore", "/opt/pg/bin", { pathEnv: d.pathEnv, binRoot: d.binRoot })).resolves.toBe("/opt/pg/bin/pg_restore");
    expect(() => execFileSync("cat", [`${d.wrapper}.runs`], { stdio: "pipe" })).toThrow();
  });

  it("asks the wrapper once per minute, not once per run", async () => {
    const d = debianLike(V15, { major: "15", says: V15 });
    const opts = { pathEnv: d.pathEnv, binRoot: d.binRoot, now: 1_000 };
    for (let i = 0; i < 5; i++) await toolPath("pg_restore", undefined, opts);
    const runs = () => execFileSync("cat", [`${d.wrapper}.runs`], { encoding: "utf8" }).trim().split("\n").length;
    expect(runs()).toBe(1);
    await toolPath("pg_restore", undefined, { ...opts, now: 1_000 + TOOL_PATH_TTL_MS });
    expect(runs()).toBe(2);
  });

  it("on this machine, answers a pg_restore with the same version line as the PATH's, and that line", async () => {
    const bin = await toolPath("pg_restore");
    const pathSays = execFileSync("pg_restore", ["--version"], { encoding: "utf8" });
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" })).toBe(pathSays);
    await expect(toolVersionLine("pg_restore")).resolves.toBe(pathSays.trim());
  });

  it("without the wrapper, the version line is the tool's own answer", async () => {
    const bin = script(path.join(dir, "plain", "pg_restore"), V15);
    await expect(toolVersionLine("pg_restore", path.dirname(bin))).resolves.toBe(V15);
  });
});
