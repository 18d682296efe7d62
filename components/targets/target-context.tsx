"use client";
// Under a page's heading: which database the page is showing, so nobody reads shop-staging's
// history believing it is shop-prod's. Host and database only, never the connection URL.
import Link from "next/link";
import { useTargetListQuery } from "@/lib/hooks/use-target-list";
import { EnvironmentBadge } from "./target-badge";

export function TargetContext({ name }: { name: string }) {
  const targets = useTargetListQuery();
  const t = targets.data?.find((x) => x.name === name || x.id === name);
  if (targets.isSuccess && !t) {
    return (
      <p role="alert" data-testid="target-context" data-target={name} className="text-sm text-red-800">
        There is no target named {name}.{" "}
        <Link href="/overview" className="underline">
          See every target
        </Link>
      </p>
    );
  }
  return (
    <p data-testid="target-context" data-target={t?.name ?? name} className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm text-slate-600">
      <span>
        Target <span className="font-medium text-slate-900">{t?.name ?? name}</span>
      </span>
      {t && <EnvironmentBadge environment={t.environment} />}
      {t && (
        <span className="font-mono text-xs [overflow-wrap:anywhere]">
          {t.database} on {t.host}
        </span>
      )}
    </p>
  );
}
