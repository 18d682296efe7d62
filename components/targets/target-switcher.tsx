"use client";
// The target switcher in the navigation: which database the Backups, Restores, Deployments
// and Checks pages show. The choice is the URL's `?target=` (nothing for `default`), so
// it is shared with the link, kept by the navigation's links and survives a reload. On the
// audit log nothing selected means every target, which the switcher offers (decision 110).
import { useId } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useTargetListQuery } from "@/lib/hooks/use-target-list";
import { DEFAULT_TARGET_NAME, selectedTarget, showsAllTargets, switchTargetHref, targetFilter, targetLabel } from "@/lib/targets-client";

export function TargetSwitcher() {
  const id = useId();
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const allTargets = showsAllTargets(pathname);
  const current = allTargets ? (targetFilter(search.get("target")) ?? "") : selectedTarget(search.get("target"));
  const targets = useTargetListQuery();
  const list = targets.data ?? [];
  const known = (allTargets && current === "") || list.some((t) => t.name === current || t.id === current);
  const value = list.find((t) => t.id === current)?.name ?? current;

  return (
    <div className="flex flex-col gap-1 px-5 pb-3" data-testid="target-switcher">
      <label htmlFor={id} className="text-xs font-medium uppercase tracking-wide text-slate-500">
        Target
      </label>
      <select
        id={id}
        value={value}
        onChange={(e) => router.push(switchTargetHref(pathname, search.toString(), e.target.value))}
        disabled={targets.isPending && current === DEFAULT_TARGET_NAME}
        aria-describedby={targets.isError ? `${id}-error` : undefined}
        className="w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm"
      >
        {allTargets && <option value="">All targets</option>}
        {!known && <option value={value}>{targets.isPending ? value : `${value} (unknown)`}</option>}
        {list.map((t) => (
          <option key={t.id} value={t.name}>
            {targetLabel(t)}
          </option>
        ))}
      </select>
      {targets.isError && (
        <p id={`${id}-error`} role="alert" className="text-xs text-red-700">
          Could not list the targets: {targets.error.message}
        </p>
      )}
    </div>
  );
}
