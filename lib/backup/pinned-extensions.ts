// Extensions a server lets one database have, the one a server setting names (decision 201).
//
// pg_cron's scheduler runs in the database `cron.database_name` names, and its install script
// refuses every other: "can only create extension in database shop". A database that runs its
// jobs with pg_cron — what managed servers offer — could not be restored beside itself: the
// swap's fresh copy, a restore into a copy and a drill's scratch database all have other names,
// and each failed at the archive's CREATE EXTENSION (the swap and the copy with the live
// database untouched; every drill, every night). So:
//   - restoring the database itself, the swap gives way to the in-place restore, which creates
//     the extension in the database it belongs to (restore-plan.ts `chooseStrategy`);
//   - where the server lets another database have it, or does not load it, no strategy can
//     create it: the restore refuses before anything, saying which setting to change;
//   - a copy and a drill leave it out, with its jobs (its configuration tables' rows and
//     sequences), and say so: the archive's head is rewritten as it streams in
//     (`PinnedExtensionLeaver`), the rest of the database restored as it was.
import { archiveInt, type ArchiveHead, type HeadEntry } from "./archive-offsets";
import type { ObjectKind } from "./catalog-snapshot";
import { ArchiveHeadRewriter } from "./archive-head-rewriter";
import { withClient, type Session } from "./pg-client";
import { quoteLiteral } from "./quote";

/** By extension: the server setting naming its one database, and the schema its script makes. */
export const PINNED_EXTENSIONS: Readonly<Record<string, { setting: string; schema: string }>> = {
  pg_cron: { setting: "cron.database_name", schema: "cron" },
};

/** Of `extensions`, those in PINNED_EXTENSIONS. */
export const pinnedAmong = (extensions: string[]): string[] => extensions.filter((e) => Object.hasOwn(PINNED_EXTENSIONS, e)).sort();

/** Of `extensions`, those a copy or a drill makes: all but the pinned ones, which it leaves out. */
export const madeInCopy = (extensions: string[]): string[] => extensions.filter((e) => !Object.hasOwn(PINNED_EXTENSIONS, e));

export interface PinnedExtension {
  name: string;
  setting: string;
  /** The setting's value on the target's server: the one database that may have it; null when the server does not load the extension. */
  database: string | null;
}

/** The backup's extensions among PINNED_EXTENSIONS, with the database the target's server lets have each. */
export async function readPinnedExtensions(target: Session, extensions: string[]): Promise<PinnedExtension[]> {
  const names = pinnedAmong(extensions);
  if (!names.length) return [];
  return withClient(target, async (c) => {
    const out: PinnedExtension[] = [];
    for (const name of names) {
      const { setting } = PINNED_EXTENSIONS[name];
      // Unknown (NULL) unless the server loaded the extension's library, which defines it.
      const { rows } = await c.query<{ v: string | null }>("SELECT current_setting($1, true) AS v", [setting]);
      out.push({ name, setting, database: rows[0]?.v ?? null });
    }
    return out;
  });
}

/** Why the swap's fresh copy cannot have them, for the plan's reason; null when it can. */
export function pinnedSwapProblem(pinned: PinnedExtension[], database: string): string | null {
  const here = pinned.filter((p) => p.database === database);
  if (!here.length) return null;
  return here.map((p) => `${p.name} can be created only in the database ${p.setting} names, ${database}, not in a fresh copy beside it`).join(" and ");
}

/** Why no restore of the database `database` can create them on this server, and what to change; null when it can. */
export function pinnedElsewhereWords(pinned: PinnedExtension[], database: string): string | null {
  const elsewhere = pinned.filter((p) => p.database !== database);
  if (!elsewhere.length) return null;
  return elsewhere
    .map((p) =>
      p.database === null
        ? `The backup's database uses ${p.name}, which this server does not load: add it to shared_preload_libraries, set ${p.setting} = ${quoteLiteral(database)}, and restart PostgreSQL`
        : `The backup's database uses ${p.name}, which this server lets only the database ${p.database} have (${p.setting}): set ${p.setting} = ${quoteLiteral(database)} and restart PostgreSQL, or restore into ${p.database}`,
    )
    .join(". ");
}

/**
 * An object of the application's that a copy leaves out because it uses a left-out extension
 * (a view over cron.job_run_details): as the catalogue record names it, and as words say it.
 * For a function, `name` is `schema.name(`, its overloads unknown to the archive's tag.
 */
export interface LeftOutUser {
  kind: ObjectKind;
  name: string;
  /** "view public.job_failures" */
  label: string;
}

/** The archive's object entries by the catalogue's kind; others (comments, grants, rows) go with their object unnamed. */
const DESC_KINDS: Readonly<Record<string, ObjectKind>> = {
  TABLE: "tables",
  "FOREIGN TABLE": "tables",
  VIEW: "views",
  "MATERIALIZED VIEW": "materializedViews",
  SEQUENCE: "sequences",
  FUNCTION: "functions",
  PROCEDURE: "functions",
  AGGREGATE: "functions",
  TYPE: "types",
  DOMAIN: "types",
  INDEX: "indexes",
  CONSTRAINT: "constraints",
  "FK CONSTRAINT": "constraints",
  "CHECK CONSTRAINT": "constraints",
  TRIGGER: "triggers",
  POLICY: "policies",
};
const RELATIONS = new Set<ObjectKind>(["tables", "views", "materializedViews"]);
/** Named `schema.table.name` in the catalogue; the archive tags them "table name". */
const OF_A_TABLE = new Set<ObjectKind>(["constraints", "triggers", "policies"]);

/** The object an archive entry makes, as the catalogue names it; null for entries that make none it records. */
export function leftOutUser(e: Pick<HeadEntry, "desc" | "tag" | "namespace">): LeftOutUser | null {
  const kind = DESC_KINDS[e.desc];
  if (!kind) return null;
  const schema = e.namespace ?? "";
  const label = `${e.desc.toLowerCase()} ${schema}.${e.tag}`;
  if (kind === "functions") return { kind, name: `${schema}.${e.tag.slice(0, e.tag.indexOf("(") + 1) || `${e.tag}(`}`, label };
  return { kind, name: `${schema}.${OF_A_TABLE.has(kind) ? e.tag.replace(" ", ".") : e.tag}`, label };
}

/** Whether the catalogue's `kind` `name` is `u`, or belongs to it (an index, constraint, trigger or policy of a left-out table). */
function isOrBelongsTo(u: LeftOutUser, kind: string, name: string): boolean {
  if (u.kind === "functions") return kind === "functions" && name.startsWith(u.name);
  if (kind === u.kind && name === u.name) return true;
  return RELATIONS.has(u.kind) && OF_A_TABLE.has(kind as ObjectKind) && name.startsWith(`${u.name}.`);
}

/**
 * Whether an object of the backup's catalogue record (catalog-snapshot.ts: kind, qualified
 * name) is one a copy without `leftOut` lacks: the extension itself, or one in its schema —
 * the indexes, triggers and policies of its tables, which CREATE EXTENSION would have made —
 * or one of the application's that uses it (`users`) and was left out with it.
 */
export function leftOutWith(leftOut: string[], kind: string, name: string, users: LeftOutUser[] = []): boolean {
  return (
    leftOut.some((e) => (kind === "extensions" && name === e) || name.startsWith(`${PINNED_EXTENSIONS[e]?.schema}.`)) ||
    users.some((u) => isOrBelongsTo(u, kind, name))
  );
}

/**
 * What a copy or a drill says of the extensions it left out, and of the objects of the
 * application's left out with them because they use them (`users`; before the archive is
 * read, as the preview says it, not yet known); null when none.
 */
export function leftOutWords(names: string[], into: "copy" | "drill", users: LeftOutUser[] | "not yet known" = []): string | null {
  if (!names.length) return null;
  const one = names.length === 1;
  const uses = `what of the database uses ${one ? "it" : "them"}`;
  const what = names.map((n) => `${n} (its setting ${PINNED_EXTENSIONS[n]?.setting ?? "?"} names the one database that may have it)`).join(", ");
  const where = into === "copy" ? "the copy, a database of another name," : "the drill's scratch database";
  // Before the archive is read, what uses them is said without names; after, named. A left-out
  // table's indexes, constraints and triggers go unnamed with it.
  const named = users === "not yet known" ? [] : users.filter((u) => !users.some((t) => t !== u && RELATIONS.has(t.kind) && isOrBelongsTo(t, u.kind, u.name)));
  const before = users === "not yet known" ? `, and with ${uses}` : "";
  const after = named.length ? `, and with ${one ? "it" : "them"} ${uses}: ${named.map((u) => u.label).join(", ")}` : "";
  return `${one ? "An extension" : "Extensions"} ${where} cannot have ${one ? "is" : "are"} left out with ${one ? "its" : "their"} jobs and settings${before}: ${what}${after}; every other object and row is restored`;
}

/**
 * The head entries that belong to extension `name`: its EXTENSION entry, its comment, and
 * what pg_dump keeps of its members — their rows (configuration tables), sequence values and
 * grants — in its schema, depending only on objects the archive does not hold (the members
 * themselves, which CREATE EXTENSION makes).
 */
export function extensionEntries(entries: Pick<HeadEntry, "dumpId" | "desc" | "tag" | "namespace" | "deps">[], name: string): number[] {
  const schema = PINNED_EXTENSIONS[name]?.schema;
  const ext = entries.find((e) => e.desc === "EXTENSION" && e.tag === name);
  if (!ext) return [];
  const ids = new Set(entries.map((e) => e.dumpId));
  const member = (e: (typeof entries)[number]) => e.deps.length > 0 && e.deps.every((d) => !ids.has(d)) && (e.namespace === schema || e.tag === `SCHEMA ${schema}`);
  const comment = (e: (typeof entries)[number]) => e.desc === "COMMENT" && e.tag === `EXTENSION ${name}` && e.deps.includes(ext.dumpId);
  return entries.filter((e) => e === ext || comment(e) || member(e)).map((e) => e.dumpId);
}

/**
 * The entries that depend on those in `ids`, directly or through each other, not among them:
 * what pg_restore could not make without them (pg_dump points a dependency on an extension's
 * member at the extension's entry) — a view over its table, that view's grants and comment,
 * a view over that view.
 */
export function dependentEntries(entries: Pick<HeadEntry, "dumpId" | "deps">[], ids: number[]): number[] {
  const gone = new Set(ids);
  const out: number[] = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of entries) {
      if (gone.has(e.dumpId) || !e.deps.some((d) => gone.has(d))) continue;
      gone.add(e.dumpId);
      out.push(e.dumpId);
      grew = true;
    }
  }
  return out;
}

/**
 * A pass-through stream for a custom-format archive that leaves the named extensions out
 * (ArchiveHeadRewriter: the head held back, rewritten, everything after passed unchanged): it
 * empties the statements of their entries (`extensionEntries`) and of the entries that use
 * them (`dependentEntries`), and marks their data as none,
 * so pg_restore makes nothing of them and skips their rows. An archive it does not read is
 * passed as it came, `skipped` saying why (pg_restore then fails on the extension, as before).
 */
export class PinnedExtensionLeaver extends ArchiveHeadRewriter {
  readonly leftOut: string[] = [];
  /** The application's objects left out with them, because they use them. */
  readonly users: LeftOutUser[] = [];
  /** The emptied entries' `key`s (schema.name as the archive's bytes): their rows are not loaded, so not counted (row-counts.ts). */
  readonly emptiedKeys = new Set<string>();

  constructor(
    readonly names: string[],
    maxHeadBytes?: number,
  ) {
    super(names.length > 0, maxHeadBytes);
  }

  protected override rewrite(buf: Buffer, head: ArchiveHead): Buffer {
    const out = Buffer.from(buf);
    const emptied = new Set<number>();
    for (const name of this.names) {
      const ids = extensionEntries(head.entries, name);
      if (!ids.length) continue;
      for (const id of ids) emptied.add(id);
      this.leftOut.push(name);
    }
    // What uses them could not be made either: left out too, and named.
    const users = new Set(dependentEntries(head.entries, [...emptied]));
    for (const e of head.entries) {
      if (!users.has(e.dumpId)) continue;
      emptied.add(e.dumpId);
      const user = leftOutUser(e);
      if (user) this.users.push(user);
    }
    // Rebuilt entry by entry: an emptied statement is shorter, so what follows moves.
    const parts: Buffer[] = [];
    let from = 0;
    for (const e of head.entries) {
      if (!emptied.has(e.dumpId)) continue;
      if (e.desc === "TABLE DATA") this.emptiedKeys.add(e.key);
      // No data: pg_restore neither issues the entry's COPY nor looks for its block.
      archiveInt(0, head.intSize).copy(out, e.hadDumperAt);
      parts.push(out.subarray(from, e.defnAt), archiveInt(0, head.intSize));
      from = e.defnEnd;
    }
    parts.push(out.subarray(from));
    return Buffer.concat(parts);
  }
}
