// pg_dump --version is asked again only after TOOL_VERSION_TTL_MS (the health checks ask
// every few seconds in every web process; decision 111).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TOOL_VERSION_TTL_MS, pgDumpVersion } from "./dump";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vaultline-tool-version-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakePgDump(version: string) {
  const bin = path.join(dir, "pg_dump");
  await writeFile(bin, `#!/bin/sh\necho 'pg_dump (PostgreSQL) ${version}'\n`);
  await chmod(bin, 0o755);
}

describe("pgDumpVersion", () => {
  it("reuses an answer for a minute, then asks the binary again", async () => {
    const t0 = 1_000_000;
    await fakePgDump("15.4");
    expect((await pgDumpVersion(dir, t0)).full).toBe("15.4");
    await fakePgDump("16.2");
    expect((await pgDumpVersion(dir, t0 + TOOL_VERSION_TTL_MS - 1)).full).toBe("15.4");
    expect((await pgDumpVersion(dir, t0 + TOOL_VERSION_TTL_MS)).full).toBe("16.2");
  });

  it("does not keep a failure: a binary installed after a miss is seen at once", async () => {
    const other = path.join(dir, "later");
    await expect(pgDumpVersion(other, 5_000_000)).rejects.toThrow(/pg_dump not found/);
    await mkdir(other);
    await writeFile(path.join(other, "pg_dump"), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 17.1'\n", { mode: 0o755 });
    expect((await pgDumpVersion(other, 5_000_001)).full).toBe("17.1");
  });
});
