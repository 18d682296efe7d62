// "Send this alert once per gap" for alerts every replica checks on its own timer (missed
// backup, overdue drill): the decision and its record happen in one transaction under an
// advisory lock, so replicas checking at the same moment send it once between them. The
// record is a RuntimeState row; `decide` sees what the last alert recorded and answers the
// new record, or null when this check must not alert.
import type { Db } from "../db";
import type { Prisma } from "../generated/prisma/client";

export async function claimAlert<R extends Prisma.InputJsonObject>(
  db: Db,
  stateKey: string,
  decide: (last: Record<string, unknown> | null) => R | null,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vaultline:alert:${stateKey}`}))`;
    const row = await tx.runtimeState.findUnique({ where: { key: stateKey } });
    const value = decide((row?.value as Record<string, unknown> | null) ?? null);
    if (!value) return false;
    await tx.runtimeState.upsert({
      where: { key: stateKey },
      create: { key: stateKey, value, updatedBy: "system" },
      update: { value, updatedBy: "system" },
    });
    return true;
  });
}
