// A FULL backup's table locks (decision 175). pg_dump holds a share lock on every table until
// it ends: while it runs, the page says when the dump waits for another session's lock (a
// migration, a transaction left open) and when another session waits for the dump's — a
// migration held up, with the application's queries queued behind it, which nobody could see
// from the outside. Once the backup has ended, who waited for it stays on record.
import { describeBackupWait, describeBlockedSession } from "@/lib/backup-locks-text";
import type { BackupLocksDto } from "@/lib/validation/backups";

/** A wait shorter than this is the ordinary give and take of locks, not worth a warning. */
const WAIT_WORTH_SAYING_S = 3;

const terminate = (pids: number[]) => pids.map((p) => `SELECT pg_terminate_backend(${p});`).join(" ");

export function BackupLocks({ locks, running }: { locks: BackupLocksDto | null | undefined; running: boolean }) {
  if (!locks) return null;
  const waits = running ? locks.waiting.filter((w) => w.seconds >= WAIT_WORTH_SAYING_S) : [];
  const blocking = running ? locks.blocking.filter((b) => b.seconds >= WAIT_WORTH_SAYING_S) : [];
  const past = !running ? locks.blocked : [];
  if (!waits.length && !blocking.length && !past.length) return null;
  return (
    <div className="flex flex-col gap-2" data-testid="backup-locks">
      {waits.map((w) => (
        <div key={`w${w.pid}`} role="alert" data-testid="backup-lock-waiting" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <p>The dump {describeBackupWait(w)}.</p>
          <p className="mt-1 text-xs">
            A migration or a transaction left open holds it. The backup goes on once it ends, and fails naming it after BACKUP_LOCK_WAIT_SECONDS (default 5 min).
            {w.heldBy.length > 0 && (
              <>
                {" "}
                To end it now: <code className="font-mono">{terminate(w.heldBy.map((h) => h.pid))}</code>
              </>
            )}
          </p>
        </div>
      ))}
      {blocking.map((b) => (
        <div key={`b${b.pid}`} role="alert" data-testid="backup-lock-blocking" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          <p>{describeBlockedSession(b)}.</p>
          <p className="mt-1 text-xs">
            The dump holds its lock on every table until the backup ends; queries on that table wait behind this session meanwhile. Cancel the backup to let it through,
            or end that session: <code className="font-mono">{terminate([b.pid])}</code>
          </p>
        </div>
      ))}
      {past.length > 0 && (
        <section aria-labelledby="backup-locks-heading" className="rounded-lg border border-slate-200 bg-white px-4 py-3" data-testid="backup-lock-blocked">
          <h2 id="backup-locks-heading" className="mb-1 text-base font-semibold">
            Sessions that waited for this backup
          </h2>
          <ul className="list-disc pl-5 text-sm text-slate-700">
            {past.map((b) => (
              <li key={b.pid}>{describeBlockedSession(b, { past: true })}.</li>
            ))}
          </ul>
          <p className="mt-1 text-xs text-slate-600">A dump holds a lock on every table until it ends: deploy migrations outside backup hours, or let the deploy gate hold them while a backup runs.</p>
        </section>
      )}
    </div>
  );
}
