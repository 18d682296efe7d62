// GET /api/tokens — live API tokens (never their secrets) · POST — create one, secret shown once
import { db } from "@/lib/db";
import { json, parseBody, userIdOf, withAuth } from "@/lib/http";
import { createTokenSchema } from "@/lib/validation/users";
import { createToken, listTokens } from "@/lib/users";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("tokens.manage", async () => json({ tokens: await listTokens(db()) }));

export const POST = withAuth("tokens.manage", async (req, { principal, actor }) => {
  const input = await parseBody(req, createTokenSchema);
  return json(await createToken(db(), input, userIdOf(principal), actor), 201);
});

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
