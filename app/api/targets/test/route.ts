// POST /api/targets/test — test a connection URL before saving it (ADMIN; the URL is neither stored nor echoed)
import { appContext } from "@/lib/backup";
import { testNewTargetUrl } from "@/lib/backup/targets-admin";
import { json, parseBody, withAuth } from "@/lib/http";
import { testTargetUrlSchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth("targets.write", async (req, { actor }) => json(await testNewTargetUrl(appContext(), (await parseBody(req, testTargetUrlSchema)).databaseUrl, actor)));

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
