// A restored subscription, made ready to be enabled without losing what its slot holds
// (decision 150). pg_dump recreates a subscription with `connect = false`: disabled, and with
// no tables (pg_subscription_rel is filled from the publisher's list, which it does not ask
// for). Enabled like that, the apply worker streams the slot from where it was and skips
// every change, because no table is subscribed; the slot confirms them as done, so they are
// lost. Measured on PostgreSQL 15 with a real publisher: rows inserted on the publisher after
// the restore never arrived, and the slot's confirmed_flush_lsn moved past them.
//
// PostgreSQL's documented order (enable, then REFRESH PUBLICATION) has the same hole: the
// refresh is refused on a disabled subscription, and the worker starts as soon as it is
// enabled. So the tables are registered while the subscription cannot stream: for the
// refresh it is enabled under a slot name that does not exist on the publisher (the worker
// fails to start streaming and retries), then disabled and given its own slot back, in one
// transaction. `copy_data = false`: the restored rows are kept, and the tables are marked
// ready, so ENABLE replays the slot's changes onto them.
import type pg from "pg";
import { randomBytes } from "node:crypto";
import { withClient } from "./pg-client";
import { quoteIdent, quoteLiteral } from "./quote";

export interface SubscriptionReadiness {
  name: string;
  /** Its tables are registered: ENABLE replays its slot onto them. */
  ready: boolean;
  /** Why not, as PostgreSQL or this module says it. */
  reason?: string;
}

/** How long the refresh may wait for the publisher (it connects from the database server). */
const PUBLISHER_TIMEOUT = "30s";

/** Registers the tables of each disabled subscription of the database at `url` that has none (the state pg_dump restores). */
export async function registerSubscribedTables(url: string): Promise<SubscriptionReadiness[]> {
  return withClient(
    url,
    async (c) => {
      const { rows } = await c.query<{ name: string; slot: string | null; tables: number }>(
        `SELECT s.subname AS name, s.subslotname AS slot, (SELECT count(*)::int FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = s.oid) AS tables
           FROM pg_catalog.pg_subscription s
          WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND NOT s.subenabled
          ORDER BY 1`,
      );
      const out: SubscriptionReadiness[] = [];
      for (const s of rows) {
        if (s.tables > 0) out.push({ name: s.name, ready: true });
        else if (!s.slot) out.push({ name: s.name, ready: false, reason: "it has no slot (slot_name = NONE)" });
        else out.push(await register(c, s.name, s.slot));
      }
      return out;
    },
    "vaultline-restore",
  );
}

async function register(c: pg.Client, name: string, slot: string): Promise<SubscriptionReadiness> {
  const sub = quoteIdent(name);
  const hold = `vaultline_hold_${randomBytes(6).toString("hex")}`;
  try {
    await c.query(`BEGIN; ALTER SUBSCRIPTION ${sub} SET (slot_name = ${quoteLiteral(hold)}); ALTER SUBSCRIPTION ${sub} ENABLE; COMMIT`);
  } catch (e) {
    // Nothing changed (the transaction did not commit).
    await c.query("ROLLBACK").catch(() => undefined);
    return { name, ready: false, reason: (e as Error).message };
  }
  let reason: string | undefined;
  try {
    await c.query(`SET statement_timeout = ${quoteLiteral(PUBLISHER_TIMEOUT)}`);
    await c.query(`ALTER SUBSCRIPTION ${sub} REFRESH PUBLICATION WITH (copy_data = false)`);
  } catch (e) {
    reason = (e as Error).message;
  } finally {
    await c.query("RESET statement_timeout").catch(() => undefined);
    // Must hold: otherwise the subscription is left enabled under a slot that does not exist.
    await c.query("ROLLBACK").catch(() => undefined);
    await c.query(`BEGIN; ALTER SUBSCRIPTION ${sub} DISABLE; ALTER SUBSCRIPTION ${sub} SET (slot_name = ${quoteLiteral(slot)}); COMMIT`);
  }
  return reason ? { name, ready: false, reason } : { name, ready: true };
}

/** The restore's record of each subscription, one sentence each. */
export function subscriptionNotes(subs: SubscriptionReadiness[]): string[] {
  return subs.map((s) =>
    s.ready
      ? `Subscription ${s.name} is disabled, with its tables registered again (pg_dump recreates it without them): ALTER SUBSCRIPTION ${quoteIdent(s.name)} ENABLE replays what its slot holds onto the restored rows. Changes it had applied between the backup and the restore are not among them.`
      : `Subscription ${s.name} is disabled and its tables could not be registered again (${s.reason}). Do not only ENABLE it: with no table subscribed it would skip every change its slot holds, and they would be lost. Make it ready as docs/operations.md says ("Logical replication subscriptions"), then enable it.`,
  );
}

/**
 * After Undo (decision 150): the database brought back had its subscriptions disabled and let
 * go of their slots at the swap (decision 142), and the restored database going out holds
 * the same subscriptions with those slots. Each slot is handed back: the outgoing
 * subscription is disabled and lets go of it, the returning one takes it and stays disabled
 * (its tables were never removed, so ENABLE replays the slot). One sentence per subscription.
 */
export async function handBackSubscriptionSlots(returningUrl: string, outgoingUrl: string): Promise<string[]> {
  return withClient(
    returningUrl,
    async (c) => {
      const { rows } = await c.query<{ name: string }>(
        `SELECT subname AS name FROM pg_catalog.pg_subscription
          WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND subslotname IS NULL ORDER BY 1`,
      );
      const detached = rows.map((r) => r.name);
      if (!detached.length) return [];
      const slots = await withClient(
        outgoingUrl,
        async (out) => {
          const { rows: held } = await out.query<{ name: string; slot: string }>(
            `SELECT subname AS name, subslotname AS slot FROM pg_catalog.pg_subscription
              WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) AND subslotname IS NOT NULL AND subname = ANY($1::text[])`,
            [detached],
          );
          for (const r of held) await out.query(`BEGIN; ALTER SUBSCRIPTION ${quoteIdent(r.name)} DISABLE; ALTER SUBSCRIPTION ${quoteIdent(r.name)} SET (slot_name = NONE); COMMIT`);
          return new Map(held.map((r) => [r.name, r.slot]));
        },
        "vaultline-restore",
      );
      const notes: string[] = [];
      for (const name of detached) {
        const slot = slots.get(name);
        if (!slot) {
          notes.push(`Undo: subscription ${name} is disabled and has no slot (the restored database had none to give back): set one (ALTER SUBSCRIPTION ${quoteIdent(name)} SET (slot_name = '…')) before you enable it.`);
          continue;
        }
        await c.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} SET (slot_name = ${quoteLiteral(slot)})`);
        notes.push(`Undo: subscription ${name} has its slot ${slot} back and is disabled: ALTER SUBSCRIPTION ${quoteIdent(name)} ENABLE resumes it from the slot. What it delivered to the restored database meanwhile is not in this one.`);
      }
      return notes;
    },
    "vaultline-restore",
  );
}
