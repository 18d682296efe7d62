// The public API of the Deployment Control Center, used by the route handlers.
import { config } from "../config";
import { hooksFromConfig, type DeployHooks } from "./hooks";

export { runGate, backupVerdict, gateResponse, type GateResult } from "./gate";
export { listDeployments, getDeployment, recordDeployment, type Who } from "./deployments";
export { startDeploy } from "./run";
export { startRollback } from "./rollback";
export { deployState } from "./state";
export { latestCheckRun, runAndStoreChecks } from "./checks-store";

/** The hooks as configured (DEPLOY_*, ROLLBACK_*, HOOK_TIMEOUT_SECONDS). */
export function appHooks(): DeployHooks {
  return hooksFromConfig(config());
}
