// A target as rows and headings show it: its name and, beside it, its environment.
import { Badge } from "@/components/ui/badge";
import type { TargetRefDto } from "@/lib/targets-client";

const PROD = /^prod(uction)?$/i;

export function EnvironmentBadge({ environment }: { environment: string }) {
  return (
    <Badge tone={PROD.test(environment) ? "red" : "slate"} title={`Environment ${environment}`}>
      {environment}
    </Badge>
  );
}

/** `target` absent (an API from before targets) is shown as nothing rather than guessed. */
export function TargetBadge({ target, className = "" }: { target: TargetRefDto | null | undefined; className?: string }) {
  if (!target) return null;
  return (
    <span className={`inline-flex min-w-0 flex-wrap items-center gap-1 ${className}`} data-testid="target-badge" data-target={target.name}>
      <span className="truncate font-medium text-slate-800" title={`Target ${target.name}`}>
        {target.name}
      </span>
      {target.environment && <EnvironmentBadge environment={target.environment} />}
    </span>
  );
}
