// GET /api/metrics — Prometheus text (token scope `metrics`)
import { NextResponse } from "next/server";
import { db } from "@/lib/db";
import { withAuth } from "@/lib/http";
import { renderMetrics } from "@/lib/metrics";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("metrics.read", async () => {
  const m = await renderMetrics(db());
  return new NextResponse(m.body, { headers: { "content-type": m.contentType, "cache-control": "no-store" } });
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
