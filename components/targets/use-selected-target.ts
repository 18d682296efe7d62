"use client";
// The target a page shows lives in its URL (`?target=<name>`), so a view can be shared and
// survives a reload; absent means `default`, which keeps today's URLs as they were.
import { useSearchParams } from "next/navigation";
import { DEFAULT_TARGET_NAME, selectedTarget, withTarget } from "@/lib/targets-client";

export function useSelectedTarget() {
  const name = selectedTarget(useSearchParams().get("target"));
  return {
    /** The selected target's name (or id, as typed into the URL). */
    name,
    /** What the API calls take: undefined for `default`, so those requests are today's. */
    param: name === DEFAULT_TARGET_NAME ? undefined : name,
    /** A dashboard link that keeps the selection. */
    href: (path: string) => withTarget(path, name),
  };
}
