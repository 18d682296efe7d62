// Proves the hand-written migrations produce exactly what schema.prisma describes, and
// that our migrate step keeps Prisma's `_prisma_migrations` bookkeeping.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { createDatabase, sql } from "./support/vitest-env";
import { describeStatus, migrate, migrationStatus, readMigrations } from "../lib/migrate";

const require = createRequire(import.meta.url);
const wasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };

interface DmmfField {
  name: string;
  kind: "scalar" | "enum" | "object";
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  isUpdatedAt: boolean;
  type: string;
  default?: unknown;
  relationFromFields?: string[];
  relationOnDelete?: string;
  dbName?: string | null;
}
interface Dmmf {
  datamodel: {
    models: { name: string; dbName: string | null; fields: DmmfField[] }[];
    enums: { name: string; values: { name: string }[] }[];
    indexes: { model: string; type: string; name?: string; dbName?: string; fields: { name: string; sortOrder?: string }[] }[];
  };
}

const dmmf: Dmmf = JSON.parse(
  wasm.get_dmmf(JSON.stringify({ prismaSchema: readFileSync("prisma/schema.prisma", "utf8") })),
);

const PG_TYPE: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Boolean: "boolean",
  DateTime: "timestamp without time zone",
  Json: "jsonb",
};

/** Defaults Prisma computes in the client, not in the database. */
function hasDbDefault(f: DmmfField): boolean {
  if (!f.hasDefaultValue) return false;
  const d = f.default as { name?: string } | undefined;
  return !(d && typeof d === "object" && ["cuid", "uuid", "nanoid"].includes(d.name ?? ""));
}

describe("migrations", () => {
  it("produce exactly the tables, columns, types, nullability, defaults, enums, indexes and foreign keys of schema.prisma", async () => {
    const url = await createDatabase("schema");
    await migrate(url);

    const tables = (
      await sql<{ table_name: string }>(
        url,
        `SELECT table_name FROM information_schema.tables WHERE table_schema='public' AND table_type='BASE TABLE'`,
      )
    ).map((r) => r.table_name);
    const expectedTables = dmmf.datamodel.models.map((m) => m.dbName ?? m.name);
    expect(tables.sort()).toEqual([...expectedTables, "_prisma_migrations"].sort());

    const columns = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
      column_default: string | null;
    }>(
      url,
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema='public' AND table_name <> '_prisma_migrations'`,
    );
    const actual = columns
      .map((c) => ({
        col: `${c.table_name}.${c.column_name}`,
        type: c.data_type === "USER-DEFINED" ? `enum:${c.udt_name}` : c.data_type === "ARRAY" ? `${c.udt_name.slice(1)}[]` : c.data_type,
        nullable: c.is_nullable === "YES",
        hasDefault: c.column_default !== null,
      }))
      .sort((a, b) => a.col.localeCompare(b.col));
    const expected = dmmf.datamodel.models
      .flatMap((m) =>
        m.fields
          .filter((f) => f.kind !== "object")
          .map((f) => {
            const base = f.kind === "enum" ? `enum:${f.type}` : PG_TYPE[f.type];
            // information_schema names an array by its element type alone, enum or not.
            const listBase = f.type === "String" ? "text" : f.kind === "enum" ? f.type : base;
            return {
              col: `${m.dbName ?? m.name}.${f.dbName ?? f.name}`,
              type: f.isList ? `${listBase}[]` : base,
              // Prisma creates scalar lists as nullable arrays.
              nullable: f.isList ? true : !f.isRequired,
              hasDefault: hasDbDefault(f),
            };
          }),
      )
      .sort((a, b) => a.col.localeCompare(b.col));
    expect(actual).toEqual(expected);

    const enums = await sql<{ name: string; values: string[] }>(
      url,
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    expect(Object.fromEntries(enums.map((e) => [e.name, e.values]))).toEqual(
      Object.fromEntries(dmmf.datamodel.enums.map((e) => [e.name, e.values.map((v) => v.name)])),
    );

    const indexes = await sql<{ tablename: string; indexdef: string }>(
      url,
      `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname='public' AND tablename <> '_prisma_migrations'`,
    );
    const actualIdx = indexes
      .map((i) => {
        const cols = i.indexdef.slice(i.indexdef.indexOf("(") + 1, i.indexdef.lastIndexOf(")"));
        const unique = i.indexdef.startsWith("CREATE UNIQUE");
        return `${i.tablename}${unique ? "!" : ""}(${cols.replace(/"/g, "")})`;
      })
      .sort();
    const expectedIdx = dmmf.datamodel.indexes
      .map((i) => {
        const table = dmmf.datamodel.models.find((m) => m.name === i.model)!;
        const cols = i.fields.map((f) => `${f.name}${f.sortOrder === "desc" ? " DESC" : ""}`).join(", ");
        return `${table.dbName ?? table.name}${i.type === "normal" ? "" : "!"}(${cols})`;
      })
      .sort();
    expect(actualIdx).toEqual(expectedIdx);

    const fks = await sql<{ def: string }>(
      url,
      `SELECT conrelid::regclass::text || '.' || pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype='f'`,
    );
    const actionSql: Record<string, string> = { Cascade: "CASCADE", SetNull: "SET NULL", Restrict: "RESTRICT" };
    const expectedFks = dmmf.datamodel.models
      .flatMap((m) =>
        m.fields
          .filter((f) => f.kind === "object" && f.relationFromFields?.length)
          .map((f) => {
            const target = dmmf.datamodel.models.find((t) => t.name === f.type)!;
            return `"${m.name}".FOREIGN KEY ("${f.relationFromFields!.join('", "')}") REFERENCES "${target.name}"(id) ON UPDATE CASCADE ON DELETE ${actionSql[f.relationOnDelete ?? "SetNull"]}`;
          }),
      )
      .sort();
    expect(fks.map((f) => f.def).sort()).toEqual(expectedFks);
  });

  it("records each migration as prisma migrate deploy does, and is idempotent", async () => {
    const url = await createDatabase("mig");
    const files = readMigrations();
    expect(await migrate(url)).toEqual(files.map((f) => f.name));
    expect(await migrate(url)).toEqual([]);
    const rows = await sql<{ migration_name: string; checksum: string; finished_at: Date; applied_steps_count: number; id: string }>(
      url,
      `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, r] of rows.entries()) {
      const onDisk = readFileSync(`prisma/migrations/${r.migration_name}/migration.sql`);
      expect(r.checksum).toBe(createHash("sha256").update(onDisk).digest("hex"));
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.applied_steps_count).toBe(1);
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(files[i].checksum).toBe(r.checksum);
    }
    expect(describeStatus(await migrationStatus(url))).toBeNull();
  });

  it("lets only one of two concurrent runs apply (advisory lock), with no error", async () => {
    const url = await createDatabase("race");
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    expect([a.length, b.length].sort()).toEqual([0, readMigrations().length]);
    const count = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM "_prisma_migrations"`);
    expect(count[0].n).toBe(readMigrations().length);
  });

  it("names the missing migrations of an unmigrated database", async () => {
    const url = await createDatabase("empty");
    const status = await migrationStatus(url);
    expect(status.missing).toEqual(readMigrations().map((f) => f.name));
    expect(describeStatus(status)).toContain(readMigrations()[0].name);
  });
});
