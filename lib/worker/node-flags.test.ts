import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { WORKER_NODE_FLAGS } from "./node-flags";

describe("the worker's V8 flags", () => {
  it("are the ones `npm run worker` starts node with", () => {
    const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.worker;
    expect(script).toContain(`node ${WORKER_NODE_FLAGS.join(" ")} --import tsx scripts/worker.ts`);
  });
});
