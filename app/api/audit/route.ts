// GET /api/audit — audit events, newest first, filtered by action and actor type
import { db } from "@/lib/db";
import { json, parseQuery, roleOf, withAuth } from "@/lib/http";
import { listAuditEvents, listAuditSchema } from "@/lib/audit-query";

export const dynamic = "force-dynamic";

export const GET = withAuth("audit.read", async (req, { principal }) =>
  json(await listAuditEvents(db(), parseQuery(req, listAuditSchema), roleOf(principal))),
);
