// What a route answers to the methods it has no handler for (decision 205). Next's own answer
// is a bare 405: no body, no Allow. Every app/api/**/route.ts ends with
//   export const { PUT, PATCH, DELETE, OPTIONS } = unhandledMethods({ GET, POST });
// naming the methods it does not handle: each answers 405 METHOD_NOT_ALLOWED in the contract's
// shape (DESIGN §6) with `Allow`, and OPTIONS 204 with the same `Allow`, as Next's own OPTIONS
// does. HEAD is left to Next where GET is handled (it answers with GET, body dropped).
// lib/route-methods.test.ts imports every route file and checks it answers so.
import { errorJson } from "./http";

/** The methods Next routes to a route handler (next/dist/server/web/http HTTP_METHODS). */
export const ROUTE_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

type Handlers = Partial<Record<RouteMethod, (...args: never[]) => unknown>>;
/** Every method but the handled ones, and but HEAD when GET is handled. */
export type UnhandledMethod<H> = Exclude<RouteMethod, keyof H | ("GET" extends keyof H ? "HEAD" : never)>;
type Answer = (req: Request) => Response;

const generated = new WeakSet<Answer>();

/** True for the answers unhandledMethods makes (the test tells them from handlers so). */
export const isUnhandledMethod = (f: unknown): boolean => typeof f === "function" && generated.has(f as Answer);

/** `Allow` for a route with these handlers: them, HEAD with GET, and OPTIONS; sorted as Next sorts its own. */
export function allowHeader(handled: readonly string[]): string {
  const allow = new Set([...handled, "OPTIONS"]);
  if (allow.has("GET")) allow.add("HEAD");
  return [...allow].sort().join(", ");
}

export function unhandledMethods<H extends Handlers>(handlers: H): Record<UnhandledMethod<H>, Answer> {
  const handled = ROUTE_METHODS.filter((m) => handlers[m]);
  const allow = allowHeader(handled);
  const others = ROUTE_METHODS.filter((m) => !handlers[m] && !(m === "HEAD" && handlers.GET));
  const answers = Object.fromEntries(
    others.map((m) => {
      const answer: Answer =
        m === "OPTIONS"
          ? () => new Response(null, { status: 204, headers: { allow } })
          : (req) =>
              errorJson("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${new URL(req.url).pathname}: use ${handled.join(" or ")}`, {
                headers: { allow },
              });
      generated.add(answer);
      return [m, answer];
    }),
  );
  return answers as Record<UnhandledMethod<H>, Answer>;
}
