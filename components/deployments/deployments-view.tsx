"use client";
// /deployments — the Deployment Control Center (seed 002): the gate, Deploy behind it,
// "Create a backup first?", the running deploy's log, rollback, and the history.
import { useState } from "react";
import { useCan } from "@/components/user-context";
import { useDeployStateQuery } from "@/lib/hooks/use-deployments";
import { Skeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { formatMinutes } from "@/lib/format";
import { GatePanel } from "./gate-panel";
import { DeployLogView } from "./deploy-log-view";
import { RollbackPanel } from "./rollback-panel";
import { DeployHistory } from "./deploy-history";
import { useSelectedTarget } from "@/components/targets/use-selected-target";
import { TargetContext } from "@/components/targets/target-context";

export function DeploymentsView() {
  const target = useSelectedTarget();
  const state = useDeployStateQuery(target.param);
  const canDeploy = useCan("deployments.write");
  const canBackup = useCan("backups.create");
  const canRollback = useCan("rollback.run");
  const [watching, setWatching] = useState<string | null>(null);
  const [hidden, setHidden] = useState<string | null>(null);
  const candidate = watching ?? state.data?.running?.id ?? null;
  const live = candidate !== hidden ? candidate : null;

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Deployments</h1>
        <TargetContext name={target.name} />
        <p className="mt-1 text-sm text-slate-600">
          A deploy goes out only behind a successful {state.data?.gate.require === "FULL" ? "full " : ""}backup from the last {formatMinutes(state.data?.gate.maxAgeMinutes ?? 60)} and passing
          checks, so that it can always be rolled back.
        </p>
      </div>
      {state.isPending ? (
        <Skeleton className="h-48 w-full" label="Loading the gate" />
      ) : state.isError ? (
        <ErrorState title="Could not load the gate" error={state.error} onRetry={() => state.refetch()} />
      ) : (
        <>
          {state.data.staleWarning && (
            <p role="status" data-testid="stale-warning" className="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950">
              {state.data.staleWarning}
            </p>
          )}
          {/* Keyed per target: the typed commit and the chosen backup belong to one target. */}
          <GatePanel key={`gate:${target.name}`} state={state.data} canDeploy={canDeploy} canBackup={canBackup} onStarted={setWatching} target={target.param} />
          {live && (
            <DeployLogView
              id={live}
              onClose={() => {
                setHidden(live);
                setWatching(null);
              }}
            />
          )}
          {canRollback && <RollbackPanel key={`rollback:${target.name}`} state={state.data} onStarted={setWatching} target={target.param} />}
        </>
      )}
      <DeployHistory />
    </div>
  );
}
