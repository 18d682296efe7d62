import { describe, expect, it } from "vitest";
import { NextRequest } from "next/server";
import { z } from "zod";
import { errorResponse, MAX_BODY, parseBody, readBodyText } from "./http";

/** A chunked body (no Content-Length) of `chunks` × 16 KiB, counting what was pulled. */
function endless(chunks: number) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= chunks) return c.close();
      pulled++;
      c.enqueue(new Uint8Array(16 * 1024).fill(120));
    },
  });
  const req = new Request("http://x/api", { method: "POST", body, duplex: "half" } as RequestInit);
  return { req, pulled: () => pulled };
}

describe("readBodyText", () => {
  it("stops reading a chunked body once it passes 64 KiB instead of reading it whole", async () => {
    const { req, pulled } = endless(10_000); // 160 MB if read whole
    await expect(readBodyText(req)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(pulled()).toBeLessThanOrEqual(MAX_BODY / (16 * 1024) + 2);
  });

  it("refuses a declared length over the limit without reading", async () => {
    const { req, pulled } = endless(10);
    const big = new Request(req, { headers: { "content-length": String(MAX_BODY + 1) } });
    await expect(readBodyText(big)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(pulled()).toBeLessThanOrEqual(2); // what the stream buffers ahead on its own
  });

  it("returns bodies up to the limit", async () => {
    const { req } = endless(4);
    expect((await readBodyText(req)).length).toBe(MAX_BODY);
    expect(await readBodyText(new Request("http://x/api", { method: "POST" }))).toBe("");
  });
});

describe("parseBody", () => {
  const post = (body: string) => new NextRequest("http://x/api/backups", { method: "POST", body });
  const schema = z.strictObject({ note: z.string().optional(), tags: z.array(z.string()).optional() });

  it("refuses a NUL in any string of the body with 400 naming the field, before the schema (which would take it)", async () => {
    expect(await parseBody(post('{"note":"ok"}'), schema)).toEqual({ note: "ok" });
    await expect(parseBody(post('{"note":"a\\u0000b"}'), schema)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringContaining('"note" contains a NUL character'),
      details: { fields: [{ path: "note", message: expect.stringContaining("NUL") }] },
    });
    await expect(parseBody(post('{"tags":["x","\\u0000"]}'), schema)).rejects.toMatchObject({ details: { fields: [{ path: "tags.1" }] } });
    // Where the schema takes anything (a confirm word), the NUL is still refused.
    await expect(parseBody(post('{"confirm":"RESTORE\\u0000"}'), z.object({ confirm: z.unknown() }))).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("answers an unknown field of a strict schema with 400 naming it", async () => {
    const e = await parseBody(post('{"note":"x","includefiles":true}'), schema).catch((x: unknown) => x);
    expect(errorResponse(e, "r").status).toBe(400);
    expect(await errorResponse(e, "r").json()).toMatchObject({
      error: { code: "VALIDATION_FAILED", details: { fields: [{ message: expect.stringContaining('"includefiles"') }] } },
    });
  });
});
