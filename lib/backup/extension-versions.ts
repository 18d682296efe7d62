// An extension is restored at the version the database had (decision 152).
//
// pg_dump writes `CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;` with no
// version, on purpose: a dump moved to a newer server gets that server's default. A
// restore into the server the backup came from is another thing. A database keeps the
// version it was created or last updated at (pg_upgrade and package updates do not move
// it), so any database older than its extension packages holds one below the default. The
// swap's check of its fresh copy then failed the restore ("extensions hstore differs"), and
// in place the restore committed the default version: other functions, operators and types
// than the backup's, and an `ALTER EXTENSION … UPDATE` the operator never ran.
//
// So the version each extension had is read from the manifest, and the archive's head is
// rewritten as it streams in: the EXTENSION entry's statement gets `VERSION '1.4'`. Every
// reader of the stream — the swap, the classic path, in place, the drill — then restores it
// as it was. Only where the version differs from the server's default and the server can
// install it; a version this server can no longer install is restored at the default, and
// the preview and the restore's record say so.
import { archiveInt, type ArchiveHead } from "./archive-offsets";
import { ArchiveHeadRewriter } from "./archive-head-rewriter";
import { short, type CatalogSnapshot } from "./catalog-snapshot";
import { withClient, type Session } from "./pg-client";
import { quoteLiteral } from "./quote";

export interface ExtensionVersionPlan {
  name: string;
  /** The version the backup recorded; null when the manifest does not say (read below). */
  recorded: string | null;
  /** What the restore will make: `recorded` when pinned, else the server's default. */
  restoredAs: string;
  pinned: boolean;
  /** This server can install `recorded`. */
  installable: boolean;
  /** The server's default version. */
  serverDefault: string;
}

/**
 * The version each extension had. Manifests since decision 152 say it; older ones hold a
 * hash of "version in schema" (catalog-snapshot.ts), matched here against the versions this
 * server offers in the schemas the backup or the live database knows.
 */
export function recordedVersions(
  catalog: CatalogSnapshot,
  offered: Map<string, string[]>,
  schemas: string[],
): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [name, entry] of Object.entries(catalog.objects.extensions ?? {})) {
    const said = catalog.extensionVersions?.[name];
    if (said !== undefined) {
      out.set(name, said);
      continue;
    }
    const found = (offered.get(name) ?? []).find((v) => schemas.some((s) => short(`${v} in ${s}`) === entry.def));
    out.set(name, found ?? null);
  }
  return out;
}

/** For each of the backup's extensions whose version is not the server's default: what the restore makes of it. */
export async function planExtensionVersions(targetUrl: Session, catalog: CatalogSnapshot | null): Promise<ExtensionVersionPlan[]> {
  const names = Object.keys(catalog?.objects.extensions ?? {});
  if (!catalog || !names.length) return [];
  const { offered, defaults, liveSchemas } = await withClient(
    targetUrl,
    async (c) => {
      const { rows } = await c.query<{ name: string; version: string; is_default: boolean }>(
        `SELECT v.name, v.version, v.version = a.default_version AS is_default
           FROM pg_available_extension_versions v JOIN pg_available_extensions a ON a.name = v.name
          WHERE v.name = ANY($1::text[])`,
        [names],
      );
      const { rows: live } = await c.query<{ nspname: string }>(`SELECT DISTINCT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`);
      const offered = new Map<string, string[]>();
      const defaults = new Map<string, string>();
      for (const r of rows) {
        offered.set(r.name, [...(offered.get(r.name) ?? []), r.version]);
        if (r.is_default) defaults.set(r.name, r.version);
      }
      return { offered, defaults, liveSchemas: live.map((r) => r.nspname) };
    },
    "vaultline-restore",
  );
  const schemas = [...new Set([...Object.keys(catalog.objects.schemas ?? {}), ...liveSchemas, "public", "pg_catalog"])];
  const recorded = recordedVersions(catalog, offered, schemas);
  const plan: ExtensionVersionPlan[] = [];
  for (const name of names.sort()) {
    const version = recorded.get(name) ?? null;
    const fallback = defaults.get(name);
    // Not installable here at all: the restore fails at its CREATE EXTENSION, as pg_restore would.
    if (fallback === undefined) continue;
    if (version === fallback) continue;
    const installable = version !== null && (offered.get(name) ?? []).includes(version);
    plan.push({ name, recorded: version, restoredAs: installable ? version : fallback, pinned: installable, installable, serverDefault: fallback });
  }
  return plan;
}

/** The versions the archive's statements are given: extension name → version. */
export function versionPins(plan: ExtensionVersionPlan[]): Map<string, string> {
  return new Map(plan.filter((p) => p.pinned).map((p) => [p.name, p.restoredAs]));
}

/** What the preview and the restore's record say of extensions restored at another version than the backup's; null when none. */
export function extensionVersionNote(plan: ExtensionVersionPlan[], notPinnedBecause?: string | null): string | null {
  const moved = plan.filter((p) => !p.pinned);
  if (!moved.length) return null;
  const what = moved.map((p) => `${p.name} ${p.recorded ?? "(version not recorded)"} → ${p.restoredAs}`).join(", ");
  const why = moved.every((p) => p.installable)
    ? `: the archive's statement could not be given the version (${notPinnedBecause ?? "not found"})`
    : moved.some((p) => p.installable)
      ? ", which this server cannot install or the archive's statement could not be given"
      : moved.some((p) => p.recorded === null)
        ? ", which this server cannot install or the backup did not record"
        : ", which this server cannot install";
  return `${moved.length === 1 ? "An extension is" : "Extensions are"} restored at this server's default version, not the backup's${why}: ${what}. Their functions, types and operators are the default version's; the application's own objects that use them are restored as they were.`;
}

const PREFIX = Buffer.from("CREATE EXTENSION IF NOT EXISTS ");
const END = Buffer.from(";\n");

/**
 * A pass-through stream for a custom-format archive that adds `VERSION '…'` to the
 * EXTENSION entries named in `pins` (ArchiveHeadRewriter: the head held back, rewritten, and
 * everything after passed unchanged). A statement not in pg_dump's form is passed as it came:
 * `skipped` says why, `pinned` what was changed.
 */
export class ExtensionVersionPinner extends ArchiveHeadRewriter {
  readonly pinned: string[] = [];

  constructor(
    private readonly pins: Map<string, string>,
    maxHeadBytes?: number,
  ) {
    super(pins.size > 0, maxHeadBytes);
  }

  protected override rewrite(buf: Buffer, head: ArchiveHead): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    for (const e of head.entries) {
      const version = e.desc === "EXTENSION" ? this.pins.get(e.tag) : undefined;
      if (version === undefined) continue;
      const lenBytes = 1 + head.intSize;
      const defn = buf.subarray(e.defnAt + lenBytes, e.defnEnd);
      if (!defn.subarray(0, PREFIX.length).equals(PREFIX) || !defn.subarray(defn.length - END.length).equals(END)) {
        this.skipped = `extension ${e.tag}'s statement is not in the form pg_dump writes`;
        continue;
      }
      const text = Buffer.concat([defn.subarray(0, defn.length - END.length), Buffer.from(` VERSION ${quoteLiteral(version)}`), END]);
      parts.push(buf.subarray(from, e.defnAt), archiveInt(text.length, head.intSize), text);
      from = e.defnEnd;
      this.pinned.push(e.tag);
    }
    parts.push(buf.subarray(from));
    return Buffer.concat(parts);
  }
}
