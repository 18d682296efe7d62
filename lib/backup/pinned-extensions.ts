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
import { ArchiveHeadRewriter } from "./archive-head-rewriter";
import { withClient, type Session } from "./pg-client";
import { quoteLiteral } from "./quote";

/** By extension: the server setting naming its one database, and the schema its script makes. */
export const PINNED_EXTENSIONS: Readonly<Record<string, { setting: string; schema: string }>> = {
  pg_cron: { setting: "cron.database_name", schema: "cron" },
};

/** Of `extensions`, those in PINNED_EXTENSIONS. */
export const pinnedAmong = (extensions: string[]): string[] => extensions.filter((e) => Object.hasOwn(PINNED_EXTENSIONS, e)).sort();

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
 * Whether an object of the backup's catalogue record (catalog-snapshot.ts: kind, qualified
 * name) is one a copy without `leftOut` lacks: the extension itself, or one in its schema —
 * the indexes, triggers and policies of its tables, which CREATE EXTENSION would have made.
 */
export function leftOutWith(leftOut: string[], kind: string, name: string): boolean {
  return leftOut.some((e) => (kind === "extensions" && name === e) || name.startsWith(`${PINNED_EXTENSIONS[e]?.schema}.`));
}

/** What a copy or a drill says of the extensions it left out; null when none. */
export function leftOutWords(names: string[], into: "copy" | "drill"): string | null {
  if (!names.length) return null;
  const what = names.map((n) => `${n} (its setting ${PINNED_EXTENSIONS[n]?.setting ?? "?"} names the one database that may have it)`).join(", ");
  const where = into === "copy" ? "the copy, a database of another name," : "the drill's scratch database";
  return `${names.length === 1 ? "An extension" : "Extensions"} ${where} cannot have ${names.length === 1 ? "is" : "are"} left out with ${names.length === 1 ? "its" : "their"} jobs and settings: ${what}; every other object and row is restored`;
}

/**
 * The head entries that belong to extension `name`: its EXTENSION entry, what depends on it
 * (its comment), and what pg_dump keeps of its members — their rows (configuration tables),
 * sequence values and grants — in its schema, depending only on objects the archive does not
 * hold (the members themselves, which CREATE EXTENSION makes).
 */
export function extensionEntries(entries: Pick<HeadEntry, "dumpId" | "desc" | "tag" | "namespace" | "deps">[], name: string): number[] {
  const schema = PINNED_EXTENSIONS[name]?.schema;
  const ext = entries.find((e) => e.desc === "EXTENSION" && e.tag === name);
  if (!ext) return [];
  const ids = new Set(entries.map((e) => e.dumpId));
  const member = (e: (typeof entries)[number]) => e.deps.length > 0 && e.deps.every((d) => !ids.has(d)) && (e.namespace === schema || e.tag === `SCHEMA ${schema}`);
  return entries.filter((e) => e === ext || e.deps.includes(ext.dumpId) || member(e)).map((e) => e.dumpId);
}

/**
 * A pass-through stream for a custom-format archive that leaves the named extensions out
 * (ArchiveHeadRewriter: the head held back, rewritten, everything after passed unchanged): it
 * empties the statements of their entries (`extensionEntries`) and marks their data as none,
 * so pg_restore makes nothing of them and skips their rows. An archive it does not read is
 * passed as it came, `skipped` saying why (pg_restore then fails on the extension, as before).
 */
export class PinnedExtensionLeaver extends ArchiveHeadRewriter {
  readonly leftOut: string[] = [];
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
