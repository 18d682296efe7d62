// The application commit a QUICK backup records: the request's, APP_COMMIT_SHA, or
// `git rev-parse HEAD` in APP_REPO_DIR.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

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
