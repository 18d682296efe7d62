// POST /api/checks/run — run schema drift, integrity rules and file sync now; stored and audited
import { json, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { runAndStoreChecks } from "@/lib/deploy";

export const dynamic = "force-dynamic";

export const POST = withAuth("checks.run", async (_req, { actor }) => json({ last: await runAndStoreChecks(appContext(), "manual", actor) }));
