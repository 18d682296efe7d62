// `target` in a query or body (DESIGN §8), apart from lib/validation/targets.ts so that the
// backup, restore and deploy schemas can take it without importing the settings schemas.
import { z } from "zod";

/** A target's id or its name. Omitted = `default`. */
export const targetSelectorSchema = z.string().min(1).max(64);

/** `?target=` alone (today, checks). */
export const targetQuerySchema = z.object({ target: targetSelectorSchema.optional() });

/**
 * Directories beside the backups under `<prefix>/<env>/` (lib/backup/mirror.ts, lib/deploy):
 * a target of that name would mix its backups into them, so no target may be called so.
 * Here, not in lib/backup, so that the target form's validation can share the one list.
 */
export const RESERVED_TARGET_SEGMENTS: readonly string[] = ["audit", "restores", "deployments", "targets"];
