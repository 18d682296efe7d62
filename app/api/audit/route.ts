// GET /api/audit — audit events, newest first, filtered by action and actor type
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { listAuditEvents, listAuditSchema } from "@/lib/audit-query";
import type { RoleName } from "@/lib/permissions";

export const dynamic = "force-dynamic";

export const GET = withAuth("audit.read", async (req, { principal }) => {
  const role: RoleName = principal.kind === "user" ? principal.user.role : principal.token.creator.role;
  return json(await listAuditEvents(db(), parseQuery(req, listAuditSchema), role));
});
