// GET /api/openapi.json — the OpenAPI 3.1 document of this API (any session or API token)
import { json, withAuth } from "@/lib/http";
import { openApiDocument } from "@/lib/openapi/document";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

// Any valid principal: CI generates its gate client with whatever token it holds.
export const GET = withAuth(null, async () => json(openApiDocument()));

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
