// A database that publishes its changes: a logical replication slot on it is read by a
// subscriber on another server, or by a change-data-capture pipeline (Debezium, a warehouse
// loader). A slot belongs to the server and is bound to one database by its OID; pg_dump
// archives publications but never slots, and a restore cannot carry one (decision 149).
// Measured on PostgreSQL 15 with a real subscriber:
// - beside and swap: the slot stays with the previous database, set aside for Undo. The
//   subscriber reconnects to the restored database under the live name and stops, again
//   and again, with "replication slot … was not created in this database"; the set-aside
//   database's slot, read by no one, keeps the server's WAL from its position until that
//   database is dropped (DROP DATABASE drops its slots). Undo brings the slot back.
// - in place: the slot stays, and the restore is one transaction among the changes it
//   decodes. The archive drops the publication and makes it again in that transaction, and
//   pgoutput stops there on every retry ("publication … does not exist"); the slot keeps
//   WAL from that point until it is dropped.
// The restore runs either way (it is what was asked for at 3 a.m.); the preview says this
// before and the restore's record after, with the slots' names.
import type pg from "pg";

export interface ReplicationSlot {
  name: string;
  /** The output plugin: pgoutput for PostgreSQL subscribers, wal2json, decoderbufs… */
  plugin: string;
  /** A consumer is connected to it now. */
  active: boolean;
  /** WAL the server keeps for it, bytes; null on a standby or before it has a position. */
  retainedBytes: number | null;
}

/** The database's own logical replication slots (temporary ones end with their session). */
export async function logicalSlots(c: pg.Client): Promise<ReplicationSlot[]> {
  const { rows } = await c.query<{ name: string; plugin: string; active: boolean; retained: string | null }>(
    `SELECT slot_name::text AS name, plugin::text AS plugin, active,
            CASE WHEN pg_is_in_recovery() OR restart_lsn IS NULL THEN NULL
                 ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text END AS retained
       FROM pg_catalog.pg_replication_slots
      WHERE slot_type = 'logical' AND NOT temporary AND database = current_database()
      ORDER BY 1`,
  );
  return rows.map((r) => ({ name: r.name, plugin: r.plugin, active: r.active, retainedBytes: r.retained === null ? null : Number(r.retained) }));
}

function described(slots: ReplicationSlot[]): string {
  return slots.map((s) => `${s.name} (${s.plugin}${s.active ? ", a consumer is reading it now" : ""})`).join(", ");
}

const slotWord = (n: number) => (n === 1 ? "slot" : "slots");

/** What a restore will do to the database's logical replication slots, said before it runs; null without any. */
export function slotsWarning(slots: ReplicationSlot[], strategy: "swap" | "in-place", keepHours: number): string | null {
  if (!slots.length) return null;
  const head = `This database publishes through logical replication ${slotWord(slots.length)} ${described(slots)}. A backup holds no slot and a restore cannot carry one`;
  if (strategy === "swap") {
    return `${head}: after the swap ${slots.length === 1 ? "it stays" : "they stay"} with the previous database, kept for Undo for ${keepHours} h, and ${slots.length === 1 ? "its consumer stops" : "their consumers stop"} with "replication slot … was not created in this database". Until the previous database is dropped the server keeps the WAL ${slots.length === 1 ? "it needs" : "they need"}. After the restore, drop and re-create each slot on the restored database (Undo is then no longer possible for the slot), and re-sync its consumer from the restored data.`;
  }
  return `${head}: ${slots.length === 1 ? "it stays" : "they stay"} on this database and decode the restore as one transaction. A pgoutput consumer stops there ("publication … does not exist": the archive drops and re-creates its publications); another plugin's consumer may receive the restored rows as new changes. Re-sync each consumer after the restore, and drop a slot no consumer reads: it keeps WAL on the server until it is dropped.`;
}

/** What became of the slots, for the restore's record once the database is replaced; null without any. */
export function slotsAfterRestore(slots: ReplicationSlot[], where: { strategy: "swap"; previous: string; keepUntil: Date } | { strategy: "in-place" }): string | null {
  if (!slots.length) return null;
  const names = slots.map((s) => s.name).join(", ");
  if (where.strategy === "swap") {
    return `Logical replication ${slotWord(slots.length)} ${names} stayed with the previous database ${where.previous}: ${slots.length === 1 ? "its consumer has" : "their consumers have"} stopped ("was not created in this database"), and the server keeps WAL for ${slots.length === 1 ? "it" : "them"} until that database is dropped (${where.keepUntil.toISOString()}). Drop and re-create ${slots.length === 1 ? "the slot" : "each slot"} on the restored database and re-sync ${slots.length === 1 ? "its consumer" : "each consumer"}, or Undo the restore to bring ${slots.length === 1 ? "it" : "them"} back.`;
  }
  return `Logical replication ${slotWord(slots.length)} ${names} decoded the restore: a pgoutput consumer has stopped at it ("publication … does not exist"), another plugin's consumer may have received the restored rows as changes. Re-sync ${slots.length === 1 ? "its consumer" : "each consumer"}; a slot no consumer reads keeps WAL on the server until it is dropped.`;
}
