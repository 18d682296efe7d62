// POST /api/keys/reencrypt — {"all":true} or {"ids":[…]}: move backups to the current key (queued)
import { json, parseBody, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { requestReencrypt } from "@/lib/backup/keys-admin";
import { reencryptRequestSchema } from "@/lib/validation/keys";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth("keys.manage", async (req, { actor }) => {
  const body = await parseBody(req, reencryptRequestSchema);
  return json(await requestReencrypt(appContext(), body, actor), 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
