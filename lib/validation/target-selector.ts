// `target` in a query or body (DESIGN §8), apart from lib/validation/targets.ts so that the
// backup, restore and deploy schemas can take it without importing the settings schemas.
import { z } from "zod";

/** A target's id or its name. Omitted = `default`. */
export const targetSelectorSchema = z.string().min(1).max(64);

/** `?target=` alone (today, checks). */
export const targetQuerySchema = z.object({ target: targetSelectorSchema.optional() });
