// A running restore's server activity in words (decision 157), for the restore's page and
// for its failure reason: the same sentence in both.
import { formatDuration } from "./format";
import type { RestoreActivityDto } from "./validation/restores";

type Session = RestoreActivityDto["sessions"][number];
type Blocker = Session["waitingFor"][number];

/** One blocker in words: enough to find it and end it, nothing it runs. */
export function describeBlocker(b: Blocker): string {
  const who = [b.user && `user ${b.user}`, b.application && `application ${JSON.stringify(b.application)}`, b.client && `from ${b.client}`, b.kind && b.kind !== "client backend" && b.kind].filter(Boolean);
  const open = b.transactionSeconds !== null ? ` (transaction open ${formatDuration(b.transactionSeconds)})` : "";
  return `pid ${b.pid}${who.length ? ` (${who.join(", ")})` : ""}${b.state ? `, ${b.state}${open}` : ""}`;
}

/** The restore's sessions that wait for other sessions' locks, each as "waited … for a lock held by …". */
export function describeWaits(a: Pick<RestoreActivityDto, "sessions"> | null, opts: { minSeconds?: number } = {}): string[] {
  return (a?.sessions ?? [])
    .filter((s) => s.waitingFor.length > 0 && s.seconds >= (opts.minSeconds ?? 0))
    .map((s) => `waited ${formatDuration(s.seconds)} for a lock held by ${s.waitingFor.map(describeBlocker).join("; ")}`);
}

/** What a session builds, in words: "index orders_customer_idx on public.orders: sorting live tuples, 61 %". */
export function describeBuild(s: Session): string | null {
  if (s.doing !== "index" && s.doing !== "constraint") return null;
  const what = `${s.doing}${s.name ? ` ${s.name}` : ""}${s.table ? ` on ${s.table}` : ""}`;
  const phase = s.phase?.replace(/^building index: /, "") ?? null;
  const pct = s.done !== null && s.total ? ` ${Math.min(100, Math.floor((100 * s.done) / s.total))} %` : "";
  return `${what}${phase ? `: ${phase}${pct ? `,${pct}` : ""}` : ""}`;
}

/** A session a restore asked to end its blockers tried to end (decision 185), for its warnings. */
export function endedSessionWords(b: Blocker, outcome: { ended: true } | { ended: false; reason: string }): string {
  return outcome.ended
    ? `Ended ${describeBlocker(b)}: it held a lock the restore waited for (asked: end blocking sessions).`
    : `Could not end ${describeBlocker(b)}, which held a lock the restore waited for: ${outcome.reason}. The restore waited for it instead.`;
}
