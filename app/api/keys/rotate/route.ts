// POST /api/keys/rotate — {"confirm":"ROTATE"}: embedded mode's new passphrase, answered once
import { json, parseBody, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { rotateKey } from "@/lib/backup/keys-admin";
import { rotateKeyRequestSchema } from "@/lib/validation/keys";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth("keys.manage", async (req, { actor }) => {
  const body = await parseBody(req, rotateKeyRequestSchema);
  return json(await rotateKey(appContext(), body.confirm, actor), 201);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
