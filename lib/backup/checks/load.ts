// Reads CHECKS_FILE on every run, so an operator's edit takes effect without a restart.
// A bad file is reported with its path and the exact field, because the person fixing
// it is looking at that file, not at our schema.
import { readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import type { z } from "zod";
import { checksFileSchema, type ChecksConfig } from "../../validation/checks";

export class ChecksFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Checks file ${file} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ChecksFileError";
  }
}

function fieldPath(p: readonly PropertyKey[], topLevelList: boolean): string {
  // A file that is just a list of rules shows paths as [0].sql, not integrity[0].sql.
  const parts = topLevelList && p[0] === "integrity" ? p.slice(1) : p;
  const s = parts.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("").replace(/^\./, "");
  return s || "(top level)";
}

function formatIssues(issues: z.core.$ZodIssue[], topLevelList: boolean): string[] {
  return issues.map((i) => `${fieldPath(i.path, topLevelList)}: ${i.message}`);
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function parseDocument(text: string, file: string): unknown {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".json") {
    try {
      return JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      throw new ChecksFileError(file, [`not valid JSON${pos ? ` at ${lineAndColumn(text, Number(pos[1]))}` : ""}: ${msg}`]);
    }
  }
  if (ext === ".yaml" || ext === ".yml") {
    try {
      return YAML.parse(text);
    } catch (e) {
      throw new ChecksFileError(file, [`not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
    }
  }
  throw new ChecksFileError(file, [`unknown format "${ext || "(no extension)"}": name it .json, .yaml or .yml`]);
}

/**
 * Parses the text of a checks file; `file` decides the format and anchors relative
 * fileSync directories (to the file's own folder, as config files usually do).
 */
export function parseChecksFile(text: string, file: string): ChecksConfig {
  const doc = parseDocument(text, file);
  if (doc === null || doc === undefined) return { integrity: [], fileSync: [] };
  const r = checksFileSchema.safeParse(doc);
  if (!r.success) throw new ChecksFileError(file, formatIssues(r.error.issues, Array.isArray(doc)));
  const base = path.dirname(path.resolve(file));
  return {
    integrity: r.data.integrity,
    fileSync: r.data.fileSync.map((e) => ({ ...e, dir: path.resolve(base, e.dir) })),
  };
}

export async function loadChecksFile(file: string): Promise<ChecksConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ChecksFileError(file, [code === "ENOENT" ? "file not found" : (e as Error).message]);
  }
  return parseChecksFile(text, file);
}
