import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import * as tar from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractFilesCopy, filesCopyDirFor, removeCopyFiles, removeFilesCopy, removePartialFilesCopy } from "./files-copy";

describe("filesCopyDirFor (decision 191)", () => {
  it("the directory, or why a copy's files are not restored", () => {
    expect(filesCopyDirFor({ restoreCopyFilesDir: "/srv/copies", filesDir: "/srv/uploads" })).toEqual({ dir: "/srv/copies" });
    expect(filesCopyDirFor({ filesDir: "/srv/uploads" }).notRestored).toMatch(/unless a directory is named for its files \(RESTORE_COPY_FILES_DIR, or the target's settings: A restore into a copy puts the files in\), and FILES_DIR is as it was\.$/);
    // A target's own files directory, which the environment's check cannot see.
    expect(filesCopyDirFor({ restoreCopyFilesDir: "/srv/shop/uploads/copies", filesDir: "/srv/shop/uploads" }).notRestored).toBe(
      "The backup's files part was not restored: RESTORE_COPY_FILES_DIR (/srv/shop/uploads/copies) is inside this target's files directory (/srv/shop/uploads), which the application serves and backs up. FILES_DIR is as it was.",
    );
    // The target's own setting is named as such (decision 192).
    expect(filesCopyDirFor({ restoreCopyFilesDir: "/srv/shop/uploads/copies", restoreCopyFilesDirSetBy: "target", filesDir: "/srv/shop/uploads" }).notRestored).toMatch(
      /^The backup's files part was not restored: the target's copy files directory \(\/srv\/shop\/uploads\/copies\) is inside/,
    );
  });
});

describe("a copy's files on disk", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vaultline-files-copy-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const archive = (entries: { name: string; body: string }[]) => {
    const pack = tar.pack();
    for (const e of entries) pack.entry({ name: e.name }, e.body);
    pack.finalize();
    return pack as unknown as Readable;
  };
  /** Half an archive, then the error a storage read would give: only once it is read. */
  const failingArchive = async (entries: { name: string; body: string }[], err: Error) => {
    const whole = await buffer(archive(entries));
    let sent = false;
    return new Readable({
      read() {
        if (sent) this.destroy(err);
        else {
          sent = true;
          this.push(whole.subarray(0, whole.length >> 1));
        }
      },
    });
  };

  it("extracts into <dir>/<copy>, nothing else left beside it", async () => {
    const at = await extractFilesCopy(dir, "shop__copy_r1", archive([{ name: "a/b.txt", body: "b" }, { name: "c.txt", body: "c" }]));
    expect(at).toBe(path.join(dir, "shop__copy_r1"));
    expect(await readdir(dir)).toEqual(["shop__copy_r1"]);
    expect(await readFile(path.join(at, "a", "b.txt"), "utf8")).toBe("b");
  });

  it("a stream that fails leaves nothing that looks like a copy, and nothing half-made", async () => {
    const big = "x".repeat(1 << 20);
    await expect(extractFilesCopy(dir, "shop__copy_r2", await failingArchive([{ name: "big.bin", body: big }], new Error("storage went away")))).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it("a crash's partial extraction is removed; a finished copy is kept until the copy goes", async () => {
    await mkdir(path.join(dir, ".shop__copy_r3.partial", "a"), { recursive: true });
    await writeFile(path.join(dir, ".shop__copy_r3.partial", "a", "half"), "half");
    await extractFilesCopy(dir, "shop__copy_r4", archive([{ name: "kept.txt", body: "k" }]));
    expect(await removePartialFilesCopy(dir, "shop__copy_r3")).toBe(true);
    expect(await removePartialFilesCopy(dir, "shop__copy_r4")).toBe(false);
    expect(await readdir(dir)).toEqual(["shop__copy_r4"]);
    expect(await removeFilesCopy(dir, "shop__copy_r4")).toBe(true);
    expect(await removeFilesCopy(dir, "shop__copy_r4")).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  describe("removeCopyFiles (decision 192)", () => {
    it("removes the files where the restore recorded them, though the setting has moved since", async () => {
      const then = path.join(dir, "then");
      const at = await extractFilesCopy(then, "shop__copy_r5", archive([{ name: "inv.pdf", body: "pdf" }]));
      expect(await removeCopyFiles({ restoreCopyFilesDir: path.join(dir, "now") }, { previousDatabase: "shop__copy_r5", copyFilesPath: at })).toBe(at);
      expect(await readdir(then)).toEqual([]);
    });

    it("without a recorded path (a restore before it), where today's setting puts them", async () => {
      const at = await extractFilesCopy(dir, "shop__copy_r6", archive([{ name: "inv.pdf", body: "pdf" }]));
      expect(await removeCopyFiles({ restoreCopyFilesDir: dir }, { previousDatabase: "shop__copy_r6", copyFilesPath: null })).toBe(at);
      expect(await removeCopyFiles({ restoreCopyFilesDir: dir }, { previousDatabase: "shop__copy_r6" })).toBeNull();
    });

    it("never a recorded path not named as the copy, nor one inside the files directory", async () => {
      const other = await extractFilesCopy(dir, "shop__copy_r7", archive([{ name: "keep.txt", body: "keep" }]));
      expect(await removeCopyFiles({}, { previousDatabase: "shop__copy_r8", copyFilesPath: other })).toBeNull();
      const uploads = path.join(dir, "uploads");
      const inside = await extractFilesCopy(uploads, "shop__copy_r9", archive([{ name: "live.txt", body: "live" }]));
      expect(await removeCopyFiles({ filesDir: uploads }, { previousDatabase: "shop__copy_r9", copyFilesPath: inside })).toBeNull();
      expect((await readdir(dir)).sort()).toEqual(["shop__copy_r7", "uploads"]);
      expect(await readdir(uploads)).toEqual(["shop__copy_r9"]);
    });
  });
});
