// Shared by the settings UI and the users/tokens routes.
import { z } from "zod";
import { ROLES, SCOPES } from "../permissions";

export const roleSchema = z.enum(ROLES);

export const createUserSchema = z.strictObject({
  email: z.string().trim().toLowerCase().email().max(320),
  displayName: z.string().trim().min(1).max(120),
  role: roleSchema,
  password: z.string().min(10, "at least 10 characters").max(200),
});

export const updateUserSchema = z
  .strictObject({
    displayName: z.string().trim().min(1).max(120).optional(),
    role: roleSchema.optional(),
    password: z.string().min(10, "at least 10 characters").max(200).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "nothing to change");

/** What an unreadable `expiresAt` is told (zod's own words were "expected date, received Date"). */
export const EXPIRES_AT_MESSAGE = "an ISO 8601 date-time, like 2026-12-31T23:59:59Z";

export const createTokenSchema = z.strictObject({
  name: z.string().trim().min(1).max(80),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
  expiresAt: z
    .string({ error: EXPIRES_AT_MESSAGE })
    .pipe(z.coerce.date({ error: EXPIRES_AT_MESSAGE }))
    .refine((d) => d.getTime() > Date.now(), "must be in the future")
    .optional()
    .meta({ format: "date-time", description: "When the token stops working: an ISO 8601 date-time, like 2026-12-31T23:59:59Z." }),
});

/** POST /api/sessions/revoke: an empty object, so a stray body (an array, a form) does nothing. */
export const endSessionsSchema = z.strictObject({});

export type CreateUserInput = z.infer<typeof createUserSchema>;
export type UpdateUserInput = z.infer<typeof updateUserSchema>;
export type CreateTokenInput = z.infer<typeof createTokenSchema>;
