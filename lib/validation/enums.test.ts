import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { BACKUP_KINDS, BACKUP_TRIGGERS, JOB_STATUSES, createBackupSchema, listBackupsSchema } from "./backups";
import { DEPLOYMENT_STATUSES } from "./deploy";
import { scheduleSchema } from "./settings";
import { ROLES } from "../permissions";
import { CHANNEL_KINDS, NOTIFICATION_EVENTS } from "./notification-channels";
import { manifestSchema } from "../backup/manifest";

const require = createRequire(import.meta.url);
const wasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };
const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: readFileSync("prisma/schema.prisma", "utf8") }))) as {
  datamodel: { enums: { name: string; values: { name: string }[] }[] };
};
const schemaEnum = (name: string) => dmmf.datamodel.enums.find((e) => e.name === name)!.values.map((v) => v.name);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" || e.name === "node_modules" ? [] : sources(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe("status, kind and trigger values have one source: prisma/schema.prisma", () => {
  it("the lists the API and the UI use are the schema's enums, in its order", () => {
    expect(BACKUP_KINDS).toEqual(schemaEnum("BackupKind"));
    expect(BACKUP_TRIGGERS).toEqual(schemaEnum("BackupTrigger"));
    expect(JOB_STATUSES).toEqual(schemaEnum("JobStatus"));
    expect(DEPLOYMENT_STATUSES).toEqual(schemaEnum("DeploymentStatus"));
    expect([...ROLES].sort()).toEqual(schemaEnum("Role").sort());
    expect(CHANNEL_KINDS).toEqual(schemaEnum("NotificationChannelKind"));
    expect(NOTIFICATION_EVENTS).toEqual(schemaEnum("NotificationEvent"));
  });

  it("the zod schemas accept every value of the enum and nothing else", () => {
    for (const kind of schemaEnum("BackupKind")) {
      expect(createBackupSchema.parse({ kind }).kind).toBe(kind);
      expect(scheduleSchema.shape.kind.parse(kind)).toBe(kind);
      expect(manifestSchema.shape.kind.parse(kind)).toBe(kind);
    }
    for (const trigger of schemaEnum("BackupTrigger")) expect(listBackupsSchema.parse({ trigger }).trigger).toBe(trigger);
    for (const status of schemaEnum("JobStatus")) expect(listBackupsSchema.parse({ status }).status).toBe(status);
    expect(listBackupsSchema.safeParse({ kind: "INCREMENTAL" }).success).toBe(false);
  });

  it("no source file keeps its own copy of a whole enum (a list or union of all its values)", () => {
    const enums = dmmf.datamodel.enums.filter((e) => e.values.length > 1);
    const copies: string[] = [];
    for (const file of ["lib", "app", "components", "scripts"].flatMap(sources)) {
      const text = readFileSync(file, "utf8");
      // `["A", "B", …]` and `"A" | "B" | …`: string-literal lists of UPPER_CASE words.
      const lists = [...text.matchAll(/"[A-Z][A-Z_]*"(?:\s*(?:,|\|)\s*"[A-Z][A-Z_]*")+/g)].map((m) => new Set(m[0].match(/[A-Z][A-Z_]*/g)));
      for (const e of enums) {
        const values = e.values.map((v) => v.name);
        if (lists.some((l) => values.every((v) => l.has(v)))) copies.push(`${file}: ${e.name}`);
      }
    }
    expect(copies).toEqual([]);
  });
});
