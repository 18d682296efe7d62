// Which channels a target's events go to (DESIGN §8): its `settings.notify.channelIds`, or
// every channel subscribed to the event when the target does not set them.
import type { Db } from "../db";
import { readTargetSettings } from "../validation/targets";

/** The target's own channel list, or undefined (absent: no restriction; an unknown target too). */
export async function targetChannelIds(db: Pick<Db, "target">, targetId: string): Promise<string[] | undefined> {
  const row = await db.target.findUnique({ where: { id: targetId }, select: { settings: true } });
  return row ? readTargetSettings(row.settings).notify?.channelIds : undefined;
}
