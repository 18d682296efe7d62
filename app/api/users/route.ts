// GET /api/users — all users · POST — create a user (ADMIN)
import { db } from "@/lib/db";
import { json, parseBody, withAuth } from "@/lib/http";
import { createUserSchema } from "@/lib/validation/users";
import { createUser, listUsers } from "@/lib/users";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("users.manage", async () => json({ users: await listUsers(db()) }));

export const POST = withAuth("users.manage", async (req, { actor }) =>
  json(await createUser(db(), await parseBody(req, createUserSchema), actor), 201),
);

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
