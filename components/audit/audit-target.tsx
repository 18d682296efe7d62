// An audit event's target as a link to what it names: backups (a prune lists several),
// the deploy history, users, tokens, settings, checks. Anything else stays text.
import Link from "next/link";
import { shortId } from "@/lib/format";

const ID = /^[a-z0-9]{20,40}$/;

function backupIds(action: string, target: string): string[] | null {
  const names = action.startsWith("backup.") || action === "retention.pruned" || action.endsWith("restore_requested") || action === "restore.requested" || action === "rollback.started";
  if (!names) return null;
  const ids = target.split(",").map((s) => s.trim()).filter(Boolean);
  return ids.length > 0 && ids.every((id) => ID.test(id)) ? ids : null;
}

function pageFor(action: string): string | null {
  if (action.startsWith("user.")) return "/settings/users";
  if (action.startsWith("token.")) return "/settings/tokens";
  if (action.startsWith("settings.")) return "/settings";
  if (action.startsWith("checks.")) return "/checks";
  if (action.startsWith("deploy") || action.startsWith("rollback.")) return "/deployments";
  if (action.startsWith("restore.")) return "/restores";
  return null;
}

export function AuditTarget({ action, target }: { action: string; target: string | null }) {
  if (!target) return <span className="text-slate-400">—</span>;
  const ids = backupIds(action, target);
  if (ids) {
    return (
      <span className="flex flex-wrap gap-x-2 gap-y-0.5">
        {ids.map((id) => (
          <Link key={id} href={`/backups/${id}`} className="font-mono text-sky-800 underline-offset-2 hover:underline" title={id}>
            {ids.length > 1 ? shortId(id) : id}
          </Link>
        ))}
      </span>
    );
  }
  const href = pageFor(action);
  return href ? (
    <Link href={href} className="text-sky-800 underline-offset-2 [overflow-wrap:anywhere] hover:underline">
      {target}
    </Link>
  ) : (
    <span className="[overflow-wrap:anywhere]">{target}</span>
  );
}
