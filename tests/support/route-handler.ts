// The route module for a documented path, called in-process by integration tests:
// /api/backups/{id}/status → app/api/backups/[id]/status/route.ts.
import type { NextRequest } from "next/server";

export type Handler = (req: NextRequest, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

export async function handlerFor(method: string, docPath: string): Promise<Handler> {
  const file = `../../app${docPath.replace(/\{(\w+)\}/g, "[$1]")}/route.ts`;
  const mod = (await import(/* @vite-ignore */ file)) as Record<string, Handler | undefined>;
  const h = mod[method.toUpperCase()];
  if (!h) throw new Error(`${file} exports no ${method}`);
  return h;
}
