"use client";
// A target named in a sentence of a confirmation: "shop-prod (prod: shop on db1:5432)", so
// the person typing RESTORE sees which database they are about to replace.
import { useTarget } from "@/lib/hooks/use-target-list";
import type { TargetRefDto } from "@/lib/targets-client";

export function TargetWhere({ target }: { target: TargetRefDto }) {
  const info = useTarget(target.id);
  const env = info?.environment ?? target.environment;
  const where = info ? `${info.database} on ${info.host}` : null;
  return (
    <span data-testid="target-where" data-target={target.name}>
      <strong className="font-semibold">{target.name}</strong>
      {(env || where) && ` (${[env, where].filter(Boolean).join(": ")})`}
    </span>
  );
}

