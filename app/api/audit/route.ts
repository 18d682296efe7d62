// GET /api/audit — audit events, newest first, filtered by action and actor type
import { db } from "@/lib/db";
import { can, json, parseQuery, withAuth } from "@/lib/http";
import { listAuditEvents, listAuditSchema } from "@/lib/audit-query";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

// Masking follows what the caller may see: a backups:read token of an ADMIN is not an ADMIN.
export const GET = withAuth("audit.read", async (req, { principal }) =>
  json(await listAuditEvents(db(), parseQuery(req, listAuditSchema), can(principal, "settings.secrets"))),
);

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
