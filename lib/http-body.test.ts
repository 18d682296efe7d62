import { describe, expect, it } from "vitest";
import { MAX_BODY, readBodyText } from "./http";

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
