// The application commit a QUICK backup records: the request's, APP_COMMIT_SHA (or
// COMMIT_SHA), or `git rev-parse HEAD` in APP_REPO_DIR (or APP_DIR). A QUICK backup holds
// nothing else, so without a commit it is refused (at request time) or fails (a
// scheduled one, at run time) with the same explanation.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ApiError } from "../errors";

const run = promisify(execFile);

export const NO_COMMIT_MESSAGE =
  "A QUICK backup records only the application's commit, and none is known: pass commitSha, or configure one — set APP_COMMIT_SHA (or COMMIT_SHA) to the deployed commit, or APP_REPO_DIR (or APP_DIR) to the application's git checkout — and restart Vaultline.";

export async function resolveCommit(explicit: string | null | undefined, envSha?: string, repoDir?: string): Promise<string | null> {
  if (explicit) return explicit.toLowerCase();
  if (envSha) return envSha.toLowerCase();
  if (!repoDir) return null;
  try {
    const { stdout } = await run("git", ["rev-parse", "HEAD"], { cwd: repoDir, timeout: 10_000 });
    const sha = stdout.trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** The commit a new QUICK backup will record, or a 400 that says how to configure one. */
export async function requireQuickCommit(explicit: string | null | undefined, envSha?: string, repoDir?: string): Promise<string> {
  const sha = await resolveCommit(explicit, envSha, repoDir);
  if (!sha) {
    throw new ApiError("VALIDATION_FAILED", NO_COMMIT_MESSAGE, {
      fields: [{ path: "commitSha", message: "required for a QUICK backup: no commit is configured (APP_COMMIT_SHA or APP_REPO_DIR)" }],
    });
  }
  return sha;
}
