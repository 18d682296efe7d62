import { describe, expect, it } from "vitest";
import { mkdtemp, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { measureTempSpace, spoolBytes, SPOOL_HEADROOM_BYTES, tempSpaceProblem } from "./temp-space";

const MiB = 1024 * 1024;

describe("spoolBytes", () => {
  it("is pg_dump's archive: the codec's input for a compressed part, the decrypted bytes for one pg_dump compressed itself", () => {
    expect(spoolBytes({ plainSizeBytes: 100 * MiB, compression: { codec: "zstd", level: 1, pgDump: "-Z0", inputBytes: 600 * MiB } })).toBe(600 * MiB);
    expect(spoolBytes({ plainSizeBytes: 100 * MiB, compression: { codec: "none", level: null, pgDump: "-Z0", inputBytes: 100 * MiB } })).toBe(100 * MiB);
    expect(spoolBytes({ plainSizeBytes: 250 * MiB })).toBe(250 * MiB);
  });
});

describe("measureTempSpace", () => {
  it("reads the directory's available bytes and adds the headroom to what is needed", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vaultline-space-"));
    try {
      const s = await measureTempSpace({ plainSizeBytes: 10 * MiB }, dir);
      const fs = await statfs(dir);
      expect(s.dir).toBe(dir);
      expect(s.neededBytes).toBe(10 * MiB + SPOOL_HEADROOM_BYTES);
      // Other writers may move it a little between the two reads.
      expect(Math.abs(s.freeBytes! - fs.bavail * fs.bsize)).toBeLessThan(256 * MiB);
      expect(s.freeBytes).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers null for a directory that is not there (mkdtemp will say what is wrong)", async () => {
    const s = await measureTempSpace({ plainSizeBytes: 1 }, path.join(tmpdir(), "vaultline-no-such-dir-" + process.pid));
    expect(s.freeBytes).toBeNull();
    expect(tempSpaceProblem(s)).toBeNull();
  });
});

describe("tempSpaceProblem", () => {
  it("says nothing when the spool fits, even exactly", () => {
    expect(tempSpaceProblem({ dir: "/tmp", neededBytes: 100, freeBytes: 100 })).toBeNull();
  });

  it("names the directory, both sizes and the way out when it does not", () => {
    const p = tempSpaceProblem({ dir: "/var/tmp", neededBytes: 700 * MiB, freeBytes: 512 * MiB });
    expect(p).toBe(
      "The restore writes the decompressed backup to a temporary file in /var/tmp and needs 700 MiB free there; 512 MiB are free (188 MiB short). Free space there, or set TMPDIR to a disk with room, and restore again",
    );
  });
});
