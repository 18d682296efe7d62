// How a restore will run on this target, decided before anything is touched and shown in
// the preview (DESIGN §5): the strategy ("beside and swap", or in place in one transaction)
// and whether owners and grants can be kept — from what the connecting role may do.
import type pg from "pg";
import { primaryHint } from "../pg-hosts";
import { withClient as withPgClient } from "./pg-client";
import { notExtensionMember, type CatalogSnapshot } from "./catalog-snapshot";
import { quoteIdent, quoteLiteral } from "./quote";
import { describeSetting, grantToSet, settingsNotCarriable, type DatabaseSetting, type UnsettableSetting } from "./db-settings";
import { sharesServerSessions } from "./pooler";
import { logicalSlots, type ReplicationSlot } from "./replication-slots";
import { pinnedSwapProblem, readPinnedExtensions, type PinnedExtension } from "./pinned-extensions";

const withClient = <T>(url: string, fn: (c: pg.Client) => Promise<T>) => withPgClient(url, fn, "vaultline-restore-plan");

export type Strategy = "swap" | "in-place";
export type StrategySetting = Strategy | "auto";
export type Ownership = "keep" | "reassign";

export interface TargetCapabilities {
  user: string;
  superuser: boolean;
  createDb: boolean;
  database: string;
  databaseOwner: string;
  /** Member of the database's owner: may rename it and create its replacement with that owner. */
  ownsDatabase: boolean;
  /** May end other roles' sessions (superuser or pg_signal_backend). */
  canSignal: boolean;
  /** The database's logical replication subscriptions (decision 142). */
  subscriptions: string[];
  /** The database's logical replication slots, which no restore carries (decision 149). */
  replicationSlots: ReplicationSlot[];
  /** The database's default tablespace, and whether this role may create a database there (pg_default: always). */
  tablespace: string;
  tablespaceCreate: boolean;
  serverVersionNum: number;
  /** The server is a standby (in recovery): it takes no writes, so nothing is restored into it (decision 144). */
  standby: boolean;
  /** The URL goes through a pooler in transaction mode (pooler.ts): nothing is restored through it (decision 148). */
  pooled: boolean;
  /**
   * Transactions prepared for two-phase commit (PREPARE TRANSACTION) in the database, and
   * not yet committed or rolled back: they hold their locks and count as sessions, so the
   * swap cannot rename the database and an in-place restore waits for their locks (decision 151).
   */
  preparedTransactions: { gid: string; owner: string; prepared: string }[];
  /**
   * The server's lock table (max_locks_per_transaction × (max_connections +
   * max_prepared_transactions), shared by every session) and the live database's relations
   * (tables, indexes, sequences, views, TOAST tables): an in-place restore locks each one it
   * drops and each one it makes until it commits (decision 145).
   */
  locks: { perTransaction: number; slots: number; relations: number };
  /** Roles the backup needs that do not exist on this server. */
  missingRoles: string[];
  /** Existing roles the connecting role may not hand objects to (owners; decision 182). */
  notMemberOf: string[];
  /**
   * The database's own settings (ALTER DATABASE / ALTER ROLE … IN DATABASE … SET) the
   * connecting role may not set on a copy (db-settings.ts): the swap could not carry them.
   */
  unsettable: UnsettableSetting[];
  /**
   * The backup's extensions that the server lets only one database have (pinned-extensions.ts,
   * decision 201), with the database it names: the swap's fresh copy, of another name, cannot.
   */
  pinnedExtensions?: PinnedExtension[];
}

export interface OwnershipPlan {
  /** Owners and grants can be restored exactly. */
  canKeep: boolean;
  /** Why not, one sentence each. */
  problems: string[];
  /** The roles the backup names, or null for a backup made before they were recorded. */
  roles: string[] | null;
  /** Given to the connecting role instead ("reassign"), whether the backup's grants would be kept (`keepsPrivileges`). */
  reassignKeepsGrants: boolean;
}

export interface RestorePlan {
  strategy: Strategy;
  strategyReason: string;
  ownership: OwnershipPlan;
}

/**
 * Whether an in-place restore may run out of locks, and what to do (decision 145). It drops
 * the live relations and makes the backup's, about as many, in one transaction: twice the
 * live count against the lock table. PostgreSQL lends a transaction some of its shared
 * memory beyond that, so this is a warning, not a refusal; the failure, if it comes, is
 * rolled back and explained (lockTableHint).
 */
export function inPlaceLockProblem(cap: Pick<TargetCapabilities, "locks">): string | null {
  const { perTransaction, slots, relations } = cap.locks;
  const needed = relations * 2;
  if (needed <= slots) return null;
  const connections = Math.max(1, Math.round(slots / perTransaction));
  return `An in-place restore runs in one transaction, which locks every table, index, sequence and view it drops and recreates: about ${needed} here, and this server's lock table holds about ${slots} (max_locks_per_transaction ${perTransaction} × ${connections} connections). It may fail with "out of shared memory" and change nothing. Raise max_locks_per_transaction to at least ${Math.ceil(needed / connections)} and restart PostgreSQL, or give Vaultline's role what the swap needs (the swap does not run in one transaction)`;
}

/** The failure of a restore that ran out of locks, with what to change; null for any other failure. */
export function lockTableHint(message: string): string | null {
  if (!/out of shared memory|max_locks_per_transaction/i.test(message)) return null;
  return "the database has more objects than one transaction may lock on this server: raise max_locks_per_transaction (and restart PostgreSQL), or give Vaultline's role what the swap needs — the swap does not restore in one transaction";
}

/** Why no restore can run while transactions prepared for two-phase commit hold the database, or null (decision 151). */
export function preparedProblem(cap: Pick<TargetCapabilities, "preparedTransactions">): string | null {
  const p = cap.preparedTransactions;
  if (!p.length) return null;
  const shown = p.slice(0, 5).map((t) => `'${t.gid}' (by ${t.owner}, prepared ${t.prepared})`).join(", ") + (p.length > 5 ? `, and ${p.length - 5} more` : "");
  return `${p.length === 1 ? "A transaction prepared" : `${p.length} transactions prepared`} for two-phase commit ${p.length === 1 ? "holds" : "hold"} the target's database: ${shown}. ${p.length === 1 ? "It keeps its" : "They keep their"} locks until committed or rolled back, so the swap cannot rename the database and an in-place restore would wait for them. Vaultline does not decide ${p.length === 1 ? "its" : "their"} outcome: have the transaction manager that prepared ${p.length === 1 ? "it" : "them"} finish, or run COMMIT PREPARED or ROLLBACK PREPARED '<gid>' (see pg_prepared_xacts)`;
}

/** Why nothing can be restored into this target's database, or null (decision 144). */
export function standbyProblem(cap: Pick<TargetCapabilities, "standby">, url?: string): string | null {
  if (!cap.standby) return null;
  const hint = url ? primaryHint(url) : null;
  return `The target's database is on a standby (a server in recovery, which takes no writes): nothing can be restored into it, and the primary's changes would overwrite it anyway. Restore on the primary: ${hint ?? "point this target's connection at it for the restore, or add the primary as a target of its own"}`;
}

/**
 * The roles a backup's restore needs (decision 182): every role it names must exist; the
 * restoring role must be a member of those it acts for (owners, default privileges' FOR
 * ROLE — every named role for a manifest before decision 182), and only a superuser may make
 * a grant whose grantor does not own the object.
 */
export interface RoleNeeds {
  named: string[];
  acting: string[];
  otherGrantors: string[];
  /** The database's own settings the backup recorded, which a restore sets (decision 194); undefined before: the live database's. */
  settings?: DatabaseSetting[];
  /** The backup's extensions, for those a server lets one database have (decision 201). */
  extensions?: string[];
}

export function roleNeeds(catalog: CatalogSnapshot | null): RoleNeeds {
  // A manifest before decision 182 recorded a grantee PostgreSQL quotes (app-readonly) with its
  // quotes ("app-readonly"): read back by its name, or the restore looks for a role no server has.
  const named = catalog?.owners ? catalog.roles : (catalog?.roles ?? []).map((r) => (/^".+"$/.test(r) ? r.slice(1, -1).replace(/""/g, '"') : r));
  return { named, acting: catalog?.owners ?? named, otherGrantors: catalog?.otherGrantors ?? [], settings: catalog?.database?.settings, extensions: Object.keys(catalog?.objects.extensions ?? {}) };
}

export async function probeTarget(url: string, needs: RoleNeeds): Promise<TargetCapabilities> {
  // First and alone: another session of ours through the same pooler could take the server
  // session the probe waits to see shared (a flaky test showed it).
  const pooled = await sharesServerSessions(url);
  return { ...(await probeSession(url, needs)), pooled };
}

async function probeSession(url: string, needs: RoleNeeds): Promise<Omit<TargetCapabilities, "pooled">> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`
      SELECT current_user AS "user", r.rolsuper AS superuser, (r.rolsuper OR r.rolcreatedb) AS "createDb",
             current_database() AS database, pg_get_userbyid(d.datdba) AS "databaseOwner",
             pg_has_role(current_user, d.datdba, 'MEMBER') AS "ownsDatabase",
             (r.rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')) AS "canSignal",
             t.spcname AS tablespace, (t.spcname = 'pg_default' OR has_tablespace_privilege(t.oid, 'CREATE')) AS "tablespaceCreate",
             current_setting('server_version_num')::int AS "serverVersionNum", pg_is_in_recovery() AS standby,
             json_build_object(
               'perTransaction', current_setting('max_locks_per_transaction')::int,
               'slots', current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int),
               'relations', (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
                                AND (n.nspname <> 'pg_toast' OR c.oid >= 16384))) AS locks
        FROM pg_roles r, pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
       WHERE r.rolname = current_user AND d.datname = current_database()`);
    const base = rows[0] as Omit<TargetCapabilities, "missingRoles" | "notMemberOf" | "unsettable" | "pinnedExtensions" | "subscriptions" | "replicationSlots" | "preparedTransactions" | "pooled">;
    const { rows: subs } = await c.query<{ n: string }>(
      "SELECT subname AS n FROM pg_catalog.pg_subscription WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) ORDER BY 1",
    );
    const { rows: found } = await c.query<{ rolname: string; member: boolean }>(
      `SELECT rolname, pg_has_role(current_user, oid, 'MEMBER') AS member FROM pg_roles WHERE rolname = ANY($1::text[])`,
      [[...new Set([...needs.named, ...needs.acting])]],
    );
    const exists = new Map(found.map((r) => [r.rolname, r.member]));
    return {
      ...base,
      missingRoles: needs.named.filter((r) => !exists.has(r)),
      notMemberOf: needs.acting.filter((r) => exists.has(r) && !exists.get(r)),
      // A superuser may set anything; anyone else is tried (rolled back) on the database itself.
      unsettable: base.superuser ? [] : await settingsNotCarriable(c, needs.settings),
      pinnedExtensions: await readPinnedExtensions(c, needs.extensions ?? []),
      subscriptions: subs.map((s) => s.n),
      replicationSlots: await logicalSlots(c),
      preparedTransactions: (
        await c.query<{ gid: string; owner: string; prepared: string }>(
          `SELECT gid, owner::text AS owner, to_char(prepared AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') AS prepared
             FROM pg_catalog.pg_prepared_xacts WHERE database = current_database() ORDER BY prepared`,
        )
      ).rows,
    };
  });
}

/**
 * Of the backup's grantors of grants on objects they do not own (`RoleNeeds.otherGrantors`),
 * those the connecting role cannot become (a superuser may; so may that role itself).
 */
export function grantorsNeedingSuperuser(cap: Pick<TargetCapabilities, "superuser" | "user">, otherGrantors: string[]): string[] {
  return cap.superuser ? [] : otherGrantors.filter((r) => r !== cap.user);
}

/**
 * Whether a restore may keep the backup's grants: always when it keeps owners (the plan
 * refused what it could not); given to the connecting role ("reassign"), only when every
 * grantee exists and no grant has to be made as another grantor.
 */
export function keepsPrivileges(cap: TargetCapabilities, otherGrantors: string[], keepOwners: boolean): boolean {
  return keepOwners || (cap.missingRoles.length === 0 && grantorsNeedingSuperuser(cap, otherGrantors).length === 0);
}

/**
 * Whether the backup's owners and grants can be restored as they were by this server's
 * connecting role (`cap`), and why not: `roles` are the roles the backup names (null before
 * they were recorded), `otherGrantors` its grantors on objects they do not own (decision 182).
 */
export function ownershipPlan(cap: TargetCapabilities, roles: string[] | null, otherGrantors: string[]): OwnershipPlan {
  const problems: string[] = [];
  if (roles === null) {
    if (!cap.superuser) {
      problems.push(
        `This backup was made before Vaultline recorded owners, and ${cap.user} is not a superuser, so owners cannot be proven restorable.`,
      );
    }
  } else {
    for (const r of cap.missingRoles) problems.push(`Role ${r} owns or is granted objects in the backup but does not exist on this server (CREATE ROLE ${quoteIdent(r)};).`);
    if (!cap.superuser) {
      for (const r of cap.notMemberOf) problems.push(`${cap.user} may not give objects to ${r} (GRANT ${quoteIdent(r)} TO ${quoteIdent(cap.user)};).`);
      const grantors = grantorsNeedingSuperuser(cap, otherGrantors);
      if (grantors.length) {
        problems.push(
          `${grantors.join(", ")} granted privileges on objects ${grantors.length === 1 ? "it does" : "they do"} not own (passing on a grant option); pg_restore makes such a grant as its grantor (SET SESSION AUTHORIZATION), which only a superuser may: restore through a superuser's connection.`,
        );
      }
    }
  }
  return { canKeep: problems.length === 0, problems, roles, reassignKeepsGrants: keepsPrivileges(cap, otherGrantors, false) };
}

/**
 * Why a restore into a copy cannot run here (decision 169), or null: it creates a database
 * beside the live one, in the live one's tablespace; it needs nothing of the live database.
 */
export function copyProblems(cap: TargetCapabilities): string | null {
  const missing: string[] = [];
  if (!cap.createDb) missing.push(`${cap.user} may not create databases (ALTER ROLE ${quoteIdent(cap.user)} CREATEDB;)`);
  if (!cap.tablespaceCreate) {
    missing.push(`${cap.user} may not create a database in ${cap.database}'s tablespace ${cap.tablespace} (GRANT CREATE ON TABLESPACE ${quoteIdent(cap.tablespace)} TO ${quoteIdent(cap.user)};)`);
  }
  return missing.length ? `A copy is restored into a database of its own beside the live one, and ${missing.join("; ")}` : null;
}

export function chooseStrategy(cap: TargetCapabilities, opts: { targetIsVaultline: boolean; setting: StrategySetting; keepHours: number }): { strategy: Strategy; reason: string } {
  const swapMissing: string[] = [];
  if (!cap.createDb) swapMissing.push(`${cap.user} may not create databases (ALTER ROLE ${quoteIdent(cap.user)} CREATEDB;)`);
  if (!cap.superuser && !cap.ownsDatabase) {
    swapMissing.push(`${cap.user} does not own ${cap.database} (GRANT ${quoteIdent(cap.databaseOwner)} TO ${quoteIdent(cap.user)};)`);
  }
  if (!cap.tablespaceCreate) {
    swapMissing.push(`${cap.user} may not create a database in ${cap.database}'s tablespace ${cap.tablespace} (GRANT CREATE ON TABLESPACE ${quoteIdent(cap.tablespace)} TO ${quoteIdent(cap.user)};)`);
  }
  if (cap.unsettable.length) {
    const what = cap.unsettable.map((u) => {
      const grant = grantToSet(u, cap.user, cap.serverVersionNum);
      return `${describeSetting(u)} (${u.reason}${grant ? `; ${grant}` : ""})`;
    });
    swapMissing.push(`${cap.user} may not set on a new database what ${cap.database} has set: ${what.join(", ")}`);
  }
  const pinned = pinnedSwapProblem(cap.pinnedExtensions ?? [], cap.database);
  if (pinned) swapMissing.push(pinned);
  const swap = `Beside and swap: the backup is restored in parallel into a fresh database next to ${cap.database}, checked, then swapped in (a few seconds without connections); the current database is kept ${opts.keepHours} h for Undo.`;
  if (opts.targetIsVaultline) {
    return { strategy: "in-place", reason: "In place, in one transaction: the target is Vaultline's own database, which holds the job queue and locks this restore runs on." };
  }
  if (opts.setting === "in-place") return { strategy: "in-place", reason: "In place, in one transaction: RESTORE_STRATEGY=in-place." };
  if (swapMissing.length === 0) {
    // Without the right to end other roles' sessions, an app still connected at the swap
    // makes it fail (safely: the live database stays as it was). Say so before it runs.
    const signal = cap.canSignal
      ? ""
      : ` ${cap.user} cannot end other roles' sessions (GRANT pg_signal_backend TO ${quoteIdent(cap.user)};): the swap fails, leaving the database as it was, if the app is still connected then.`;
    return { strategy: "swap", reason: swap + signal };
  }
  const why = `In place, in one transaction, because ${swapMissing.join(" and ")}.`;
  if (opts.setting === "swap") return { strategy: "in-place", reason: `${why} (RESTORE_STRATEGY=swap cannot be honoured.)` };
  return { strategy: "in-place", reason: why };
}

/**
 * The in-place prologue: removes everything the application owns, so the archive recreates
 * the database exactly — every schema but PostgreSQL's and the excluded ones (CASCADE takes
 * their extensions, and whatever a later migration hung on them), large objects, event
 * triggers, publications, foreign servers, remaining extensions and access methods; then an empty `public`
 * as initdb makes it (pg_dump never creates it, only alters it).
 */
export async function inPlacePrologue(url: string, excludeSchemas: string[], keep?: { schema: string; tables: string[] }): Promise<string> {
  return withClient(url, async (c) => {
    const q = async (text: string) => (await c.query<{ n: string }>(text, [excludeSchemas])).rows.map((r) => r.n);
    const schemas = await q(`
      SELECT n.nspname AS n FROM pg_namespace n
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
         AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
         AND NOT (n.nspname = ANY($1::text[]))
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
       ORDER BY 1`);
    const extensions = await q(`
      SELECT e.extname AS n FROM pg_extension e JOIN pg_namespace s ON s.oid = e.extnamespace
       WHERE e.extname <> 'plpgsql' AND NOT (s.nspname = ANY($1::text[])) ORDER BY 1`);
    const eventTriggers = await q(`SELECT evtname AS n FROM pg_event_trigger WHERE cardinality($1::text[]) >= 0
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = pg_event_trigger.oid AND d.deptype = 'e')`);
    const publications = await q(`SELECT pubname AS n FROM pg_publication WHERE cardinality($1::text[]) >= 0`);
    const servers = await q(`SELECT srvname AS n FROM pg_foreign_server WHERE cardinality($1::text[]) >= 0`);
    // Outside every schema, so no DROP SCHEMA takes them: casts and foreign-data wrappers
    // made by the application (an extension's go with it). Left in place, the archive's own
    // CREATE CAST fails ("already exists") and one made after the backup would stay.
    const casts = await q(`
      SELECT format('(%s AS %s)', format_type(k.castsource, NULL), format_type(k.casttarget, NULL)) AS n FROM pg_cast k
       WHERE k.oid >= 16384 AND cardinality($1::text[]) >= 0 AND ${notExtensionMember("pg_cast", "k.oid")}
         -- A range type's cast to its multirange is the type's own, and never dumped (as pg_dump).
         AND NOT EXISTS (SELECT 1 FROM pg_range r WHERE r.rngtypid = k.castsource AND r.rngmultitypid = k.casttarget)
       ORDER BY 1`);
    const wrappers = await q(`SELECT w.fdwname AS n FROM pg_foreign_data_wrapper w
       WHERE cardinality($1::text[]) >= 0 AND ${notExtensionMember("pg_foreign_data_wrapper", "w.oid")} ORDER BY 1`);
    // Access methods too, when their handler is built in (one on a function of the
    // application's goes with its schema). Dropped after the schemas, so nothing of the
    // application's still uses them, and without CASCADE: a table of an excluded schema on one
    // fails the restore, which changes nothing, rather than losing that table.
    const accessMethods = await q(`SELECT a.amname AS n FROM pg_am a
       WHERE a.oid >= 16384 AND cardinality($1::text[]) >= 0 AND ${notExtensionMember("pg_am", "a.oid")} ORDER BY 1`);
    const { rows: v } = await c.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");

    const sql: string[] = [];
    if (keep) sql.push(keepCredentialsSql(keep.schema, keep.tables));
    sql.push(DROP_SUBSCRIPTIONS);
    for (const e of eventTriggers) sql.push(`DROP EVENT TRIGGER IF EXISTS ${quoteIdent(e)};`);
    for (const p of publications) sql.push(`DROP PUBLICATION IF EXISTS ${quoteIdent(p)};`);
    for (const s of servers) sql.push(`DROP SERVER IF EXISTS ${quoteIdent(s)} CASCADE;`);
    for (const w of wrappers) sql.push(`DROP FOREIGN DATA WRAPPER IF EXISTS ${quoteIdent(w)} CASCADE;`);
    for (const k of casts) sql.push(`DROP CAST IF EXISTS ${k} CASCADE;`);
    sql.push(RESET_GLOBAL_DEFAULT_PRIVILEGES);
    if (schemas.length) sql.push(`DROP SCHEMA IF EXISTS ${schemas.map(quoteIdent).join(", ")} CASCADE;`);
    for (const e of extensions) sql.push(`DROP EXTENSION IF EXISTS ${quoteIdent(e)} CASCADE;`);
    for (const a of accessMethods) sql.push(`DROP ACCESS METHOD IF EXISTS ${quoteIdent(a)};`);
    sql.push("SELECT count(pg_catalog.lo_unlink(oid)) FROM pg_catalog.pg_largeobject_metadata;");
    if (!excludeSchemas.includes("public")) {
      sql.push(
        v[0].v >= 150000
          ? "CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC;"
          : "CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC;",
        "COMMENT ON SCHEMA public IS 'standard public schema';",
      );
    }
    return sql.join("\n");
  });
}

/**
 * Drops the logical replication subscriptions of the database it runs in without reaching
 * their publisher: each is disabled and let go of its replication slot (`slot_name = NONE`:
 * the slot stays on the publisher for the subscription the backup brings back), then
 * dropped — possible inside a transaction only so. The in-place restore runs it before the
 * archive recreates them (pg_dump makes them disabled, `connect = false`); a database is
 * cleared with it before it is dropped (one with a subscription cannot be, even WITH (FORCE)).
 */
const subscriptionsDo = (drop: boolean) => `DO $vl$
DECLARE s record;
BEGIN
  FOR s IN SELECT pg_catalog.quote_ident(subname) AS n FROM pg_catalog.pg_subscription
            WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
  LOOP
    EXECUTE format('ALTER SUBSCRIPTION %s DISABLE', s.n);
    EXECUTE format('ALTER SUBSCRIPTION %s SET (slot_name = NONE)', s.n);${drop ? "\n    EXECUTE format('DROP SUBSCRIPTION %s', s.n);" : ""}
  END LOOP;
END $vl$;`;
export const DROP_SUBSCRIPTIONS = subscriptionsDo(true);
/** The same without the drop: the previous database kept for Undo keeps its subscriptions, disabled and without a slot. */
export const DETACH_SUBSCRIPTIONS = subscriptionsDo(false);

/**
 * Database-wide default privileges (ALTER DEFAULT PRIVILEGES without IN SCHEMA) belong to no
 * schema either. Left in place they would apply to every object the archive creates (an
 * identity sequence gets grants the backup never had) and one set after the backup would
 * stay; so each is put back to PostgreSQL's built-in default, which removes the entry, and
 * the archive's own DEFAULT ACL entries set them again last. Only roles the restoring role
 * may act for (keeping owners needs that anyway).
 */
const RESET_GLOBAL_DEFAULT_PRIVILEGES = `DO $vl$
DECLARE d record; g record; kind text;
BEGIN
  FOR d IN SELECT a.defaclrole::regrole::text AS role, a.defaclobjtype AS t, a.defaclacl AS acl FROM pg_catalog.pg_default_acl a
            WHERE a.defaclnamespace = 0 AND pg_catalog.pg_has_role(a.defaclrole, 'MEMBER')
  LOOP
    kind := CASE d.t WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END;
    CONTINUE WHEN kind IS NULL;
    FOR g IN SELECT DISTINCT x.grantee FROM pg_catalog.aclexplode(d.acl) x LOOP
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s REVOKE ALL ON %s FROM %s', d.role, kind,
                     CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
    END LOOP;
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s GRANT ALL ON %s TO %s', d.role, kind, d.role);
    IF d.t = 'f' THEN EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s GRANT EXECUTE ON FUNCTIONS TO PUBLIC', d.role); END IF;
    IF d.t = 'T' THEN EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s GRANT USAGE ON TYPES TO PUBLIC', d.role); END IF;
  END LOOP;
END $vl$;`;

/**
 * pg_dump before PostgreSQL 17 writes a range type's owner but not its multirange's, and
 * ALTER TYPE … OWNER on the range does not carry over to it (fixed upstream in 17): a restore
 * leaves every multirange owned by the restoring role. Each is given the owner the backup
 * recorded in the manifest's catalogue (its types, by "schema.name"; the statement picks the
 * multiranges among them). Null when the backup recorded no catalogue or no type.
 */
export function multirangeOwnersSql(catalog: CatalogSnapshot | null): string | null {
  const owners = Object.fromEntries(Object.entries(catalog?.objects.types ?? {}).flatMap(([name, e]) => (e.owner ? [[name, e.owner]] : [])));
  if (!Object.keys(owners).length) return null;
  return `DO $vl$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('%I.%I', n.nspname, t.typname) AS q, w.owner
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             JOIN pg_catalog.jsonb_each_text(${quoteLiteral(JSON.stringify(owners))}::jsonb) AS w(name, owner) ON w.name = n.nspname || '.' || t.typname
            WHERE t.typtype = 'm' AND pg_catalog.pg_get_userbyid(t.typowner) <> w.owner
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO %I', r.q, r.owner);
  END LOOP;
END $vl$;`;
}

/** multirangeOwnersSql, run on the database at `url` (the swap's fresh copy). */
export async function setMultirangeOwners(url: string, catalog: CatalogSnapshot | null): Promise<void> {
  const text = multirangeOwnersSql(catalog);
  if (text) await withClient(url, (c) => c.query(text));
}

/**
 * Partitioned indexes left invalid although every partition has a valid index attached: the
 * mark of two attachments run side by side (`restPasses` in streamed-restore.ts; pg_restore
 * --jobs on the classic path can still do it). PostgreSQL validates a partitioned index when
 * something is attached to it, also again: re-attaching one of its partitions' indexes makes
 * it valid. Repeats while one is found (a middle level made valid may unblock the top).
 * Answers the indexes repaired.
 */
export async function repairPartitionedIndexes(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const repaired: string[] = [];
    for (let round = 0; round < 32; round++) {
      const { rows } = await c.query<{ parent: string; child: string }>(`
        SELECT x.indexrelid::regclass::text AS parent, min(i.inhrelid::regclass::text) AS child
          FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class c ON c.oid = x.indexrelid
          JOIN pg_catalog.pg_inherits i ON i.inhparent = x.indexrelid
         WHERE c.relkind = 'I' AND NOT x.indisvalid
           AND (SELECT count(*) FROM pg_catalog.pg_inherits t WHERE t.inhparent = x.indrelid)
             = (SELECT count(*) FROM pg_catalog.pg_inherits k JOIN pg_catalog.pg_index ki ON ki.indexrelid = k.inhrelid
                 WHERE k.inhparent = x.indexrelid AND ki.indisvalid)
         GROUP BY x.indexrelid`);
      if (!rows.length) return repaired;
      for (const r of rows) {
        await c.query(`ALTER INDEX ${r.parent} ATTACH PARTITION ${r.child}`);
        repaired.push(r.parent);
      }
    }
    return repaired;
  });
}

// Vaultline's own database: credentials are current state, not history (DESIGN §5). The
// rows of the credential tables are copied, as JSON, into a temporary table before anything
// is dropped — in the restore's own transaction, so nothing changed meanwhile is missed — and
// written back over the restored rows just before COMMIT; a copy stays in KEPT_TABLE until
// the migrations of this version ran (an older backup may predate a credential column), then
// is applied once more and dropped.
// NotificationChannel: its URLs and tokens are credentials too (a rotated Slack URL must not come back).
export const CREDENTIAL_TABLES = ["User", "ApiToken", "EncryptionKey", "NotificationChannel"];
export const KEPT_TABLE = "_vaultline_kept_credentials";

function keepCredentialsSql(schema: string, tables: string[]): string {
  const parts = tables.map((t) => `SELECT ${quoteLiteral(t)}::text AS tbl, to_jsonb(x) AS row FROM ${quoteIdent(schema)}.${quoteIdent(t)} x`);
  return `CREATE TEMP TABLE vl_kept ON COMMIT DROP AS ${parts.join(" UNION ALL ")};`;
}

/** Writes the kept rows (from `source`, a table with tbl and row columns) over the restored ones. */
export function applyCredentialsSql(schema: string, tables: string[], source: string): string {
  const arr = `ARRAY[${tables.map(quoteLiteral).join(", ")}]`;
  const reversed = `ARRAY[${[...tables].reverse().map(quoteLiteral).join(", ")}]`;
  const s = quoteLiteral(schema);
  return `DO $vl$
DECLARE t text; cols text; sets text;
BEGIN
  -- Rows that no longer exist go first (tokens before the users they may name)...
  FOREACH t IN ARRAY ${reversed} LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', ${s}, t)) IS NULL;
    EXECUTE format('DELETE FROM %I.%I d WHERE NOT EXISTS (SELECT 1 FROM ${source} k WHERE k.tbl = %L AND k.row->>''id'' = d.id::text)', ${s}, t, t);
  END LOOP;
  -- ...then every kept row is written back, column by column where both versions have it.
  FOREACH t IN ARRAY ${arr} LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', ${s}, t)) IS NULL;
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('%I = r.%I', a.attname, a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attname <> 'id')
      INTO cols, sets
      FROM pg_attribute a
     WHERE a.attrelid = format('%I.%I', ${s}, t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND EXISTS (SELECT 1 FROM ${source} k WHERE k.tbl = t AND k.row ? a.attname);
    CONTINUE WHEN cols IS NULL;
    IF sets IS NOT NULL THEN
      EXECUTE format('UPDATE %1$I.%2$I d SET %3$s FROM ${source} k, jsonb_populate_record(NULL::%1$I.%2$I, k.row) r WHERE k.tbl = %4$L AND r.id = d.id', ${s}, t, sets, t);
    END IF;
    EXECUTE format('INSERT INTO %1$I.%2$I (%3$s) SELECT %5$s FROM ${source} k, jsonb_populate_record(NULL::%1$I.%2$I, k.row) r WHERE k.tbl = %4$L AND NOT EXISTS (SELECT 1 FROM %1$I.%2$I d WHERE d.id = r.id)',
      ${s}, t, cols, t, (SELECT string_agg('r.' || c, ', ') FROM unnest(string_to_array(cols, ', ')) c));
  END LOOP;
END $vl$;`;
}

/** Before COMMIT of an own-database restore: the kept credentials written back, and kept for after the migrations. */
export function keptCredentialsEpilogue(schema: string): string {
  return [
    `DROP TABLE IF EXISTS ${quoteIdent(schema)}.${quoteIdent(KEPT_TABLE)};`,
    `CREATE TABLE ${quoteIdent(schema)}.${quoteIdent(KEPT_TABLE)} AS SELECT * FROM pg_temp.vl_kept;`,
    applyCredentialsSql(schema, CREDENTIAL_TABLES, "pg_temp.vl_kept"),
  ].join("\n");
}

/** After the migrations: the kept credentials applied once more, then dropped. */
export async function reapplyKeptCredentials(url: string, schema: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const table = `${quoteIdent(schema)}.${quoteIdent(KEPT_TABLE)}`;
    const { rows } = await c.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [table]);
    if (!rows[0].t) return false;
    await c.query("BEGIN");
    try {
      await c.query(applyCredentialsSql(schema, CREDENTIAL_TABLES, table));
      await c.query(`DROP TABLE ${table}`);
      await c.query("COMMIT");
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
    return true;
  });
}
