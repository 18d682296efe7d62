// The files swap at every point a crash can stop it: recovery leaves FILES_DIR wholly old
// or wholly new, never empty, half-extracted or mixed. The swap happens inside FILES_DIR
// (decision 161); swaps an older Vaultline staged beside it are still recovered.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendFile, mkdtemp, mkdir, readdir, readFile, rename, rm, truncate, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { recoverFilesSwaps, swapInFiles } from "./files-swap";
import { FilesReport, tarDirectory } from "./files";

let root: string;
let live: string;
const id = "r1";

/** Every file under dir, by relative path, with its content. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = await readFile(path.join(e.parentPath, e.name), "utf8");
  }
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vaultline-files-swap-"));
  live = path.join(root, "uploads");
  await mkdir(path.join(live, "avatars"), { recursive: true });
  await writeFile(path.join(live, "a.txt"), "old");
  await writeFile(path.join(live, "avatars", "1.png"), "old-avatar");
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const n = {
  fresh: () => path.join(live, `.vaultline-restore-${id}`),
  ready: () => path.join(live, `.vaultline-restore-${id}.ready`),
  moved: () => path.join(live, `.vaultline-restore-${id}.moved`),
  before: () => path.join(live, `.vaultline-before-${id}`),
};
const NEW = { "b.txt": "new", "docs/c.txt": "new-doc" };
const OLD = { "a.txt": "old", "avatars/1.png": "old-avatar" };

async function extracted(complete: boolean) {
  await mkdir(path.join(n.fresh(), "docs"), { recursive: true });
  await writeFile(path.join(n.fresh(), "b.txt"), "new");
  await writeFile(path.join(n.fresh(), "docs", "c.txt"), "new-doc");
  if (complete) await writeFile(n.ready(), "");
}

async function oldAside(all: boolean) {
  await mkdir(n.before());
  await rename(path.join(live, "a.txt"), path.join(n.before(), "a.txt"));
  if (all) {
    await rename(path.join(live, "avatars"), path.join(n.before(), "avatars"));
    await writeFile(n.moved(), "");
  }
}

describe("swapInFiles", () => {
  it("swaps the archive in, inside FILES_DIR, and leaves nothing of its own behind", async () => {
    const src = path.join(root, "src");
    await mkdir(path.join(src, "docs"), { recursive: true });
    await writeFile(path.join(src, "b.txt"), "new");
    await writeFile(path.join(src, "docs", "c.txt"), "new-doc");
    await swapInFiles(live, id, tarDirectory(src));
    expect(await tree(live)).toEqual(NEW);
    expect((await readdir(live)).sort()).toEqual(["b.txt", "docs"]);
    expect((await readdir(root)).sort()).toEqual(["src", "uploads"]);
  });

  it("a failed extraction removes its partial copy; FILES_DIR keeps what it had", async () => {
    const broken = Readable.from([Buffer.alloc(1024, 7)]);
    await expect(swapInFiles(live, id, broken)).rejects.toThrow();
    expect(await tree(live)).toEqual(OLD);
    expect((await readdir(live)).sort()).toEqual(["a.txt", "avatars"]);
  });

  it("a disk check that throws stops the extraction, and the partial copy goes", async () => {
    const src = path.join(root, "src");
    await mkdir(src);
    for (let i = 0; i < 8; i++) await writeFile(path.join(src, `f${i}.bin`), Buffer.alloc(64 * 1024, i));
    let looks = 0;
    const checkDisk = {
      everyBytes: 100 * 1024,
      check: async () => {
        if (++looks === 3) throw new Error("Stopped before the files disk filled up");
      },
    };
    await expect(swapInFiles(live, id, tarDirectory(src), { checkDisk })).rejects.toThrow("Stopped before the files disk filled up");
    expect(looks).toBe(3);
    expect(await tree(live)).toEqual(OLD);
    expect((await readdir(live)).sort()).toEqual(["a.txt", "avatars"]);
  });
});

describe("recoverFilesSwaps", () => {
  it("crash mid-extraction: the half-extracted copy is discarded, the old files stay", async () => {
    await extracted(false);
    expect(await recoverFilesSwaps(live)).toEqual([`files swap ${id} rolled back`]);
    expect(await tree(live)).toEqual(OLD);
    expect((await readdir(live)).sort()).toEqual(["a.txt", "avatars"]);
  });

  it("crash after the extraction completed, before anything moved: the swap is finished", async () => {
    await extracted(true);
    expect(await recoverFilesSwaps(live)).toEqual([`files swap ${id} finished`]);
    expect(await tree(live)).toEqual(NEW);
  });

  it("crash while the old entries were moved aside: the swap is finished", async () => {
    await extracted(true);
    await oldAside(false);
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual(NEW);
  });

  it("crash while the new entries were moved in: the swap is finished", async () => {
    await extracted(true);
    await oldAside(true);
    await rename(path.join(n.fresh(), "b.txt"), path.join(live, "b.txt"));
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual(NEW);
  });

  it("crash during the cleanup (markers gone, old entries not yet): the old entries go", async () => {
    await extracted(true);
    await oldAside(true);
    for (const e of await readdir(n.fresh())) await rename(path.join(n.fresh(), e), path.join(live, e));
    await rm(n.moved());
    await rm(n.ready());
    expect(await recoverFilesSwaps(live)).toEqual([`files swap ${id} cleaned up`]);
    expect(await tree(live)).toEqual(NEW);
    expect((await readdir(live)).sort()).toEqual(["b.txt", "docs"]);
  });

  it("an upload saved while the old entries were aside goes with them: the backup's entry takes its place", async () => {
    await extracted(true);
    await oldAside(true);
    await writeFile(path.join(live, "b.txt"), "written during the restore");
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual(NEW);
    expect((await readdir(live)).sort()).toEqual(["b.txt", "docs"]);
  });

  it("nothing to do when no swap was interrupted", async () => {
    expect(await recoverFilesSwaps(live)).toEqual([]);
    expect(await tree(live)).toEqual(OLD);
  });
});

describe("recoverFilesSwaps, swaps an older Vaultline staged beside FILES_DIR", () => {
  async function besideExtracted(complete: boolean) {
    await mkdir(`${live}.restore-${id}`);
    await writeFile(path.join(`${live}.restore-${id}`, "b.txt"), "new");
    if (complete) await writeFile(`${live}.restore-${id}.ready`, "");
  }

  it("an incomplete extraction is discarded", async () => {
    await besideExtracted(false);
    expect(await recoverFilesSwaps(live)).toEqual([`files swap ${id} rolled back`]);
    expect(await tree(live)).toEqual(OLD);
    expect(await readdir(root)).toEqual(["uploads"]);
  });

  it("a complete one is finished, between its two renames too", async () => {
    await besideExtracted(true);
    await rename(live, `${live}.before-${id}`);
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual({ "b.txt": "new" });
    expect(await readdir(root)).toEqual(["uploads"]);
  });
});

describe("tarDirectory", () => {
  it("leaves out a restore's staging and a filesystem's lost+found at the top, not deeper", async () => {
    await extracted(false);
    await mkdir(path.join(live, "lost+found"));
    await writeFile(path.join(live, "lost+found", "#1234"), "fsck's");
    await mkdir(path.join(live, "avatars", "lost+found"));
    await writeFile(path.join(live, "avatars", "lost+found", "x"), "the application's");
    const out = path.join(root, "out");
    await swapInFiles(out, "t", tarDirectory(live));
    expect(await tree(out)).toEqual({ ...OLD, "avatars/lost+found/x": "the application's" });
  });
});

describe("tarDirectory, read by a reader that stops early (a storage write that failed)", () => {
  it("stops its walk without an unhandled rejection, which would end the worker's process", async () => {
    const src = path.join(root, "many");
    await mkdir(src);
    for (let i = 0; i < 200; i++) await writeFile(path.join(src, `f${String(i).padStart(3, "0")}.bin`), Buffer.alloc(32 * 1024, i));
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on("unhandledRejection", onRejection);
    try {
      const archive = tarDirectory(src);
      // As stream.pipeline does: the reader's own error is handled.
      archive.on("error", () => undefined);
      for await (const _ of archive) {
        void _;
        archive.destroy(new Error("storage went away"));
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    expect(rejections).toEqual([]);
  });
});

describe("names that are not UTF-8 (decision 163)", () => {
  /** Every file under dir by its exact path bytes (hex), with its content. */
  async function rawTree(dir: Buffer, prefix = Buffer.alloc(0)): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(dir, { withFileTypes: true, encoding: "buffer" })) {
      const abs = Buffer.concat([dir, Buffer.from("/"), e.name]);
      const rel = prefix.length ? Buffer.concat([prefix, Buffer.from("/"), e.name]) : e.name;
      if (e.isDirectory()) Object.assign(out, await rawTree(abs, rel));
      else out[rel.toString("hex")] = await readFile(abs, "utf8");
    }
    return out;
  }

  it("are archived and restored byte for byte; a stock tar sees them escaped", async () => {
    const src = path.join(root, "latin1");
    await mkdir(src);
    const at = (...parts: (string | Buffer)[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
    const { writeFile: write, mkdir: mk } = await import("node:fs/promises");
    await write(at(src, "/caf", Buffer.from([0xe9]), ".png"), "latin1 file");
    await mk(at(src, "/d", Buffer.from([0xfc]), "sseldorf"));
    await write(at(src, "/d", Buffer.from([0xfc]), "sseldorf/r", Buffer.from([0xe9]), "sum", Buffer.from([0xe9]), ".txt"), "inside a latin1 directory");
    await write(path.join(src, "plain.txt"), "utf-8 name");
    await write(path.join(src, "na\u00efve.txt"), "utf-8 with an accent");
    const expected = await rawTree(Buffer.from(src));
    expect(Object.keys(expected)).toHaveLength(4);

    const out = path.join(root, "restored");
    await swapInFiles(out, "raw", tarDirectory(src));
    expect(await rawTree(Buffer.from(out))).toEqual(expected);

    // The archive as a stock tar lists it: readable names, the odd bytes escaped.
    const { execFileSync } = await import("node:child_process");
    const chunks: Buffer[] = [];
    for await (const c of tarDirectory(src)) chunks.push(c as Buffer);
    await write(path.join(root, "files.tar"), Buffer.concat(chunks));
    // Names as their bytes, whatever the locale tar runs in (CI's is C, which escapes é).
    const listed = execFileSync("tar", ["--quoting-style=literal", "-tf", path.join(root, "files.tar")], { stdio: ["ignore", "pipe", "ignore"] }).toString().split("\n").filter(Boolean).sort();
    expect(listed).toEqual(["caf%E9.png", "d%FCsseldorf/", "d%FCsseldorf/r%E9sum%E9.txt", "na\u00efve.txt", "plain.txt"]);
  });

  it("an exact path that would leave the directory is refused, whatever the shown name says", async () => {
    const tarStream = await import("tar-stream");
    const pack = tarStream.pack();
    pack.entry({ name: "harmless.txt", pax: { "VAULTLINE.rawpath": Buffer.from("../escaped.txt").toString("base64") } }, "x");
    pack.finalize();
    const out = path.join(root, "guarded");
    await expect(swapInFiles(out, "evil", Readable.from(pack as AsyncIterable<Buffer>))).rejects.toThrow('refusing tar entry "harmless.txt": path escapes the destination (`..`)');
    expect(await readdir(root)).not.toContain("escaped.txt");
  });
});

describe("tarDirectory while the application removes files (decision 164)", () => {
  it("leaves out what was removed before its turn, and archives the rest whole", async () => {
    const src = path.join(root, "busy");
    await mkdir(src);
    const names = Array.from({ length: 400 }, (_, i) => `tmp-${String(i).padStart(3, "0")}.part`);
    for (const n of names) await writeFile(path.join(src, n), n.repeat(50));
    const archive = tarDirectory(src);
    const chunks: Buffer[] = [];
    let removing: Promise<unknown> | null = null;
    for await (const c of archive) {
      chunks.push(c as Buffer);
      // The listing is made (the first file is out): the application cleans up its temp files.
      removing ??= Promise.all(names.slice(1).map((n) => rm(path.join(src, n))));
    }
    await removing;
    const out = path.join(root, "busy-out");
    await swapInFiles(out, "busy", Readable.from(chunks));
    const restored = await tree(out);
    expect(Object.keys(restored).length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(restored).length).toBeLessThan(names.length);
    for (const [name, content] of Object.entries(restored)) expect(content).toBe(name.repeat(50));
  });
});

describe("tarDirectory while the application rewrites files (decision 168)", () => {
  const MiB = 1024 * 1024;

  /** Archives src, doing `meanwhile` once the archive's first bytes are out (the big file is being read). */
  async function archiveWhile(src: string, meanwhile: () => Promise<void>, report: FilesReport): Promise<Buffer[]> {
    const chunks: Buffer[] = [];
    let done = false;
    for await (const c of tarDirectory(src, report)) {
      chunks.push(c as Buffer);
      if (!done) {
        done = true;
        await meanwhile();
      }
    }
    return chunks;
  }

  it("a file cut short while it is read is archived at its first size, zeros at its end, and said: the backup does not fail", async () => {
    const src = path.join(root, "rewritten");
    await mkdir(src);
    const original = randomBytes(32 * MiB);
    await writeFile(path.join(src, "big.bin"), original);
    await writeFile(path.join(src, "small.txt"), "untouched");
    const report = new FilesReport();
    // The application truncates it in place (to rewrite it) while the backup reads it.
    const chunks = await archiveWhile(src, () => truncate(path.join(src, "big.bin"), MiB), report);
    const out = path.join(root, "rewritten-out");
    await swapInFiles(out, "cut", Readable.from(chunks));
    const restored = await readFile(path.join(out, "big.bin"));
    expect(restored.length).toBe(32 * MiB);
    expect(restored.subarray(0, MiB).equals(original.subarray(0, MiB))).toBe(true);
    expect(restored.subarray(16 * MiB).equals(Buffer.alloc(16 * MiB))).toBe(true);
    expect(await readFile(path.join(out, "small.txt"), "utf8")).toBe("untouched");
    expect(report.changed).toBe(1);
    expect(report.changedNames).toEqual([expect.stringMatching(/^big\.bin \(cut short while it was read: \d+ of 33554432 bytes; archived with \d+ bytes of zeros at its end\)$/)]);
    expect(report.record()).toEqual({ changedWhileArchived: { count: 1, names: report.changedNames } });
  });

  it("a file written to while it is read is archived as read, at the size it had, and said", async () => {
    const src = path.join(root, "appended");
    await mkdir(src);
    const original = randomBytes(32 * MiB);
    await writeFile(path.join(src, "log.bin"), original);
    const report = new FilesReport();
    const chunks = await archiveWhile(src, () => appendFile(path.join(src, "log.bin"), "more"), report);
    const out = path.join(root, "appended-out");
    await swapInFiles(out, "grew", Readable.from(chunks));
    expect((await readFile(path.join(out, "log.bin"))).equals(original)).toBe(true);
    expect(report.changedNames).toEqual(["log.bin (written to while it was read; archived as read)"]);
  });

  it("files that hold still are not reported; the names kept are capped, the count is not", async () => {
    const src = path.join(root, "still");
    await mkdir(src);
    await writeFile(path.join(src, "a.txt"), "a");
    const report = new FilesReport();
    for await (const _ of tarDirectory(src, report)) void _;
    expect(report.record()).toEqual({});
    for (let i = 0; i < 25; i++) report.noteChanged(`f${i}`, "x");
    report.noteRemoved("gone");
    expect(report.record()).toEqual({ changedWhileArchived: { count: 25, names: Array.from({ length: 20 }, (_, i) => `f${i} (x)`) }, removedWhileArchived: 1 });
  });
});

