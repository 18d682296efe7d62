// A file's time through a files backup and its restore. Node's `stat().mtime` rounds to the
// nearest millisecond, and the archive kept that Date's seconds: a file written in the last
// half millisecond of a second came back a second later than it was (CI caught it once in
// ~50 files, in tests/restore-files-volume.integration.test.ts). Tar keeps whole seconds,
// truncated, as GNU tar does.
import { afterEach, beforeEach, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { extractTarInto, tarDirectory } from "./files";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vaultline-files-time-"));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const S = 1_796_497_478;
/** A time as utimes takes it: seconds, with `ns` nanoseconds past the second. */
const at = (ns: number) => S + ns / 1e9;
const second = async (p: string) => (await stat(p, { bigint: true })).mtimeNs / 1_000_000_000n;

it("a file or directory written late in a second comes back in that second, not the next", async () => {
  const src = path.join(root, "src");
  await mkdir(path.join(src, "late-dir"), { recursive: true });
  const times: Record<string, number> = { "late.bin": 999_700_000, "early.bin": 100_000, "middle.bin": 500_000_000, "late-dir/x": 999_600_000 };
  for (const [rel, ns] of Object.entries(times)) {
    await writeFile(path.join(src, rel), rel);
    await utimes(path.join(src, rel), at(ns), at(ns));
  }
  await utimes(path.join(src, "late-dir"), at(999_900_000), at(999_900_000));
  // The case itself: Node's own Date says the next second.
  expect(Math.floor((await stat(path.join(src, "late.bin"))).mtime.getTime() / 1000)).toBe(S + 1);

  const dest = path.join(root, "dest");
  await extractTarInto(tarDirectory(src), dest);
  for (const rel of [...Object.keys(times), "late-dir"]) expect([rel, await second(path.join(dest, rel))]).toEqual([rel, BigInt(S)]);
});
