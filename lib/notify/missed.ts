// The "no successful backup for N hours" alert fires once per gap. A gap starts at the
// last success; an alert sent after that start belongs to the current gap, so only a
// new success (which moves the start past the alert) opens a gap that may alert again.

export interface MissedAlertState {
  lastSuccessAt: Date | null;
  /** When the missed alert was last sent, whatever gap it was for. */
  lastAlertForGapAt: Date | null;
  now: Date;
  hours: number;
  /**
   * Where the gap starts when there has never been a success: when monitoring began
   * (first start, schedule enabled). Without it, a catalogue with no success at all
   * alerts once, immediately.
   */
  since?: Date | null;
}

export function shouldSendMissedAlert({ lastSuccessAt, lastAlertForGapAt, now, hours, since }: MissedAlertState): boolean {
  if (!Number.isFinite(hours) || hours <= 0) return false;
  const gapStart = lastSuccessAt ?? since ?? null;
  if (gapStart === null) return lastAlertForGapAt === null;
  if (lastAlertForGapAt && lastAlertForGapAt.getTime() >= gapStart.getTime()) return false;
  return now.getTime() - gapStart.getTime() >= hours * 60 * 60 * 1000;
}
