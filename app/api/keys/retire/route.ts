// POST /api/keys/retire — {"keyId","confirm":"RETIRE"}: embedded mode forgets an old key no backup needs
import { json, parseBody, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { retireKey } from "@/lib/backup/keys-admin";
import { retireKeyRequestSchema } from "@/lib/validation/keys";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth("keys.manage", async (req, { actor }) => {
  const body = await parseBody(req, retireKeyRequestSchema);
  return json(await retireKey(appContext(), body, actor));
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
