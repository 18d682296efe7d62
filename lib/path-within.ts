import path from "node:path";
import { isInsidePosix } from "./path-segments";

/** True when `inner` is `outer` or inside it (resolved paths, links not followed). */
export function isWithin(inner: string, outer: string): boolean {
  return isInsidePosix(path.resolve(inner), path.resolve(outer));
}
