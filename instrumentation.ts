// Runs once when the Next server starts: refuse to serve on an unmigrated schema
// (seed 000's four-hour window of P2021 errors), then start the in-process worker.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { onServerStart } = await import("./lib/server-start");
  await onServerStart();
}
