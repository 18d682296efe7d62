// GET /api/checks — the last check run (manual, gate or post-restore), or null
import { json, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { latestCheckRun } from "@/lib/deploy";

export const dynamic = "force-dynamic";

export const GET = withAuth("checks.read", async () => json({ last: await latestCheckRun(appContext()) }));
