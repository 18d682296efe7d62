// Shared by the settings UI and the users/tokens routes.
import { z } from "zod";
import { ROLES, SCOPES } from "../permissions";

export const roleSchema = z.enum(ROLES);

export const createUserSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(320),
  displayName: z.string().trim().min(1).max(120),
  role: roleSchema,
  password: z.string().min(10, "at least 10 characters").max(200),
});

export const updateUserSchema = z
  .object({
    displayName: z.string().trim().min(1).max(120).optional(),
    role: roleSchema.optional(),
    password: z.string().min(10, "at least 10 characters").max(200).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "nothing to change");

export const createTokenSchema = z.object({
  name: z.string().trim().min(1).max(80),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
  expiresAt: z.coerce
    .date()
    .refine((d) => d.getTime() > Date.now(), "must be in the future")
    .optional(),
});

/** POST /api/sessions/revoke: an empty object, so a stray body (an array, a form) does nothing. */
export const endSessionsSchema = z.object({}).strict();

export type CreateUserInput = z.infer<typeof createUserSchema>;
export type UpdateUserInput = z.infer<typeof updateUserSchema>;
export type CreateTokenInput = z.infer<typeof createTokenSchema>;
