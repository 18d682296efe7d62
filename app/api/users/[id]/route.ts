// PATCH /api/users/:id — change name, role, password or disable · DELETE — remove (ADMIN)
import { db } from "@/lib/db";
import { json, parseBody, parseId, withAuth } from "@/lib/http";
import { updateUserSchema } from "@/lib/validation/users";
import { deleteUser, updateUser } from "@/lib/users";
import { unhandledMethods } from "@/lib/route-methods";

export const PATCH = withAuth<{ id: string }>("users.manage", async (req, { params, actor }) =>
  json(await updateUser(db(), parseId(params.id), await parseBody(req, updateUserSchema), actor)),
);

export const DELETE = withAuth<{ id: string }>("users.manage", async (_req, { params, actor }) => {
  await deleteUser(db(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});

export const { GET, HEAD, OPTIONS, POST, PUT } = unhandledMethods({ DELETE, PATCH });
