// Making the roles a backup recorded (role-definitions.ts) on the target's server, and
// dropping them again when the restore that made them fails (decision 171).
import { quoteIdent } from "./quote";
import { onServer, serverClient } from "./swap";
import type { Session } from "./pg-client";
import { createRolesSql, missingRolesFrom, type MissingRoles, type RoleDefinition } from "./role-definitions";

/** Which of the roles the backup names and defines the server at url lacks. */
export async function findMissingRoles(target: Session, named: string[], defs: RoleDefinition[]): Promise<MissingRoles> {
  return onServer(target, async (c) => {
    const all = [...new Set([...named, ...defs.map((d) => d.name)])];
    const { rows } = await c.query<{ rolname: string }>("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])", [all]);
    const { rows: v } = await c.query<{ n: number }>("SELECT current_setting('server_version_num')::int AS n");
    return missingRolesFrom(new Set(rows.map((r) => r.rolname)), named, defs, v[0].n);
  });
}

/**
 * Makes `missing` as recorded, in one transaction: all or none. A role that is not a
 * superuser may give objects only to roles it is a member of, so it is made a member of
 * each role it created (said in the notes, with the REVOKE). Answers the notes for the
 * restore's record; throws with PostgreSQL's reason and nothing made.
 */
export async function createMissingRoles(targetUrl: string, defs: RoleDefinition[], missing: string[]): Promise<string[]> {
  const c = await serverClient(targetUrl);
  try {
    const { rows } = await c.query<{ user: string; superuser: boolean }>(
      "SELECT current_user AS user, rolsuper AS superuser FROM pg_catalog.pg_roles WHERE rolname = current_user",
    );
    const { user, superuser } = rows[0];
    const statements = createRolesSql(defs, missing);
    if (!superuser) statements.push(...missing.map((n) => `GRANT ${quoteIdent(n)} TO ${quoteIdent(user)}`));
    await c.query("BEGIN");
    let current = "";
    try {
      for (const s of statements) {
        current = s;
        await c.query(s);
      }
      await c.query("COMMIT");
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      const why = (e as Error).message.split("\n")[0];
      const grant = /permission denied to create role/i.test(why) ? ` (ALTER ROLE ${quoteIdent(user)} CREATEROLE;)` : "";
      throw new Error(`The roles ${missing.join(", ")} could not be created: ${why}${grant}, at ${current.split(" WITH ")[0]}. None was made`);
    }
    const byName = new Map(defs.map((d) => [d.name, d]));
    const notes = [`Roles the backup needs were missing on this server and were created as it recorded them: ${missing.join(", ")}`];
    const noPassword = missing.filter((n) => byName.get(n)?.login && byName.get(n)?.hadPassword !== false);
    if (noPassword.length) notes.push(`without a password (a backup holds none): set one before the application connects (ALTER ROLE ${quoteIdent(noPassword[0])} PASSWORD '…';)`);
    if (!superuser) notes.push(`${user} was made a member of each, to give them their objects (REVOKE … FROM ${quoteIdent(user)}; once the restore is done)`);
    return notes;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * A restore that made roles and then failed before it replaced anything drops them again,
 * all or none: a role that owns or was granted anything since (in any database) stays, and
 * the words say so with the DROP ROLE to run.
 */
export async function dropCreatedRoles(targetUrl: string, names: string[]): Promise<{ dropped: boolean; words: string }> {
  const list = names.join(", ");
  try {
    const c = await serverClient(targetUrl);
    try {
      await c.query(`DROP ROLE ${names.map(quoteIdent).join(", ")}`);
    } finally {
      await c.end().catch(() => undefined);
    }
    return { dropped: true, words: `The roles this restore had created (${list}) were dropped again` };
  } catch (e) {
    return {
      dropped: false,
      words: `The roles this restore created (${list}) are left on the server: ${(e as Error).message.split("\n")[0]}. Drop them (DROP ROLE ${names.map(quoteIdent).join(", ")};) if nothing should use them`,
    };
  }
}
