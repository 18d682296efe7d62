// The files part of a FULL backup (uploads directory) as a streamed tar, and its safe
// extraction. tar-stream is built on streamx, so both directions are bridged to Node
// streams through async iteration rather than Node's pipeline().
import { constants, type BigIntStats } from "node:fs";
import { access, chmod, chown, lstat, mkdir, open, readdir, realpath, stat, utimes, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { componentLogger } from "../log";

const log = componentLogger("backup-files");

/** Vaultline's own entries in FILES_DIR while a restore swaps its files in (files-swap.ts). */
export const STAGING_PREFIX = ".vaultline-";

/**
 * Top-level entries of FILES_DIR that are not the application's: a restore's staging, and a
 * filesystem's own lost+found (root's, unreadable) where FILES_DIR is a volume of its own.
 * Never archived, never moved aside by a restore.
 */
export const notTheApplications = (name: string): boolean => name.startsWith(STAGING_PREFIX) || name === "lost+found";

/** A tar entry that would land outside the destination, or is otherwise unsafe. */
export class UnsafeTarEntryError extends Error {
  constructor(name: string, why: string) {
    super(`refusing tar entry ${JSON.stringify(name)}: ${why}`);
    this.name = "UnsafeTarEntryError";
  }
}

interface Writer {
  write(chunk: Buffer): boolean;
  end(): void;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** Resolves on 'drain', or on close/error so a dead writer never hangs the feeder. */
function drained(w: Writer): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off("drain", done);
      w.off("close", done);
      w.off("error", done);
      resolve();
    };
    w.once("drain", done);
    w.once("close", done);
    w.once("error", done);
  });
}

/**
 * Throws, saying what to do, when FILES_DIR cannot be archived: missing, not a directory, or
 * not readable by this user. Asked before a backup dumps its database (the files part comes
 * after it: a FILES_DIR that is not there failed the backup only once the dump was done).
 */
export async function assertFilesDir(dir: string): Promise<void> {
  const s = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    if (s.code === "ENOENT") throw new Error(`FILES_DIR (${dir}) does not exist on this machine: create it, point FILES_DIR (or the target's files directory) at the uploads, or back up without files`);
    throw new Error(`FILES_DIR (${dir}) cannot be read: ${s.message}`);
  }
  if (!s.isDirectory()) throw new Error(`FILES_DIR (${dir}) is not a directory`);
  await access(dir, constants.R_OK | constants.X_OK).catch(() => {
    throw new Error(`FILES_DIR (${dir}) may not be read by Vaultline's user (uid ${process.getuid?.() ?? "?"}): give it read access to the uploads`);
  });
}

/**
 * Streams dir as a tar archive: regular files and directories with relative paths, file by
 * file. Symlinks to files inside dir are archived as the file; symlinks leaving dir,
 * symlinked directories (loops) and special files are skipped.
 *
 * Names are bytes on Linux, not always UTF-8 (an upload named in Latin-1 by an older
 * system): read as text, "café" in Latin-1 came back as "caf\uFFFD", which names no file,
 * and every backup with files failed on it (decision 163). Such an entry is archived under
 * a readable name with its bytes escaped (`caf%E9.png`, what a stock tar extracts) and its
 * exact bytes in a pax record of Vaultline's own, which a restore uses.
 */
export function tarDirectory(dir: string, report: FilesReport = new FilesReport()): Readable {
  const pack = tar.pack();
  const run = async () => {
    const root = await realpath(dir, { encoding: "buffer" });
    await addDirectory(pack, root, root, { shown: "", raw: null }, report);
    pack.finalize();
  };
  run().catch((e: unknown) => pack.destroy(e as Error));
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

/**
 * What the application did to its files while they were archived (decision 168): files it
 * changed (each archived as read, a file that shrank filled with zeros to the size its
 * header had promised) and files it removed (left out). The names of the first few are kept
 * for the manifest and the preview; the counts are exact.
 */
export class FilesReport {
  static readonly NAMES_KEPT = 20;
  changed = 0;
  removed = 0;
  readonly changedNames: string[] = [];
  noteChanged(name: string, how: string): void {
    this.changed += 1;
    if (this.changedNames.length < FilesReport.NAMES_KEPT) this.changedNames.push(`${name} (${how})`);
    log.warn({ file: name, how }, "changed while the files were archived");
  }
  noteRemoved(name: string): void {
    this.removed += 1;
    log.info({ file: name }, "left out: removed while the files were archived");
  }
  /** The manifest's record (files part), or nothing when the files held still. */
  record(): { changedWhileArchived?: { count: number; names: string[] }; removedWhileArchived?: number } {
    return {
      ...(this.changed ? { changedWhileArchived: { count: this.changed, names: [...this.changedNames] } } : {}),
      ...(this.removed ? { removedWhileArchived: this.removed } : {}),
    };
  }
}

/** The pax record that carries an entry's exact path bytes (base64) when they are not UTF-8. */
export const RAW_PATH_PAX = "VAULTLINE.rawpath";

const SLASH = Buffer.from("/");

/** An entry's path in the archive: as shown (UTF-8, odd bytes escaped), and its exact bytes when those differ. */
interface EntryPath {
  shown: string;
  raw: Buffer | null;
}

/** A name's text, or its bytes escaped (%XX for each byte of 0x80 and above) when they are not UTF-8. */
function nameText(name: Buffer): { text: string; exact: boolean } {
  const text = name.toString("utf8");
  if (Buffer.from(text, "utf8").equals(name)) return { text, exact: true };
  return { text: [...name].map((b) => (b >= 0x80 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b))).join(""), exact: false };
}

function childPath(parent: EntryPath, name: Buffer): EntryPath {
  const { text, exact } = nameText(name);
  const shown = parent.shown ? `${parent.shown}/${text}` : text;
  if (exact && !parent.raw) return { shown, raw: null };
  const base = parent.raw ?? Buffer.from(parent.shown, "utf8");
  return { shown, raw: parent.shown ? Buffer.concat([base, SLASH, name]) : name };
}

const paxOf = (p: EntryPath) => (p.raw ? { pax: { [RAW_PATH_PAX]: p.raw.toString("base64") } } : {});

function isInsideBytes(root: Buffer, p: Buffer): boolean {
  return p.equals(root) || (p.length > root.length && p[root.length] === 0x2f && p.subarray(0, root.length).equals(root));
}

async function addDirectory(pack: tar.Pack, root: Buffer, abs: Buffer, at: EntryPath, report: FilesReport): Promise<void> {
  // The application goes on meanwhile: an entry it removes between the listing and its turn
  // is gone from the backup as from the directory, not a failed backup (decision 164).
  const entries = await readdir(abs, { withFileTypes: true, encoding: "buffer" }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" && at.shown !== "") return vanished(report, at.shown);
    throw e;
  });
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  for (const entry of entries) {
    if (at.shown === "" && notTheApplications(entry.name.toString("utf8"))) continue;
    const childAbs = Buffer.concat([abs, SLASH, entry.name]);
    const child = childPath(at, entry.name);
    const st = await lstat(childAbs, { bigint: true }).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : Promise.reject(e)));
    if (!st) {
      vanished(report, child.shown);
      continue;
    }
    if (st.isDirectory()) {
      await addEntry(pack, { name: `${child.shown}/`, type: "directory", ...ownerModeTime(st), ...paxOf(child) });
      await addDirectory(pack, root, childAbs, child, report);
    } else if (st.isFile()) {
      await addFile(pack, childAbs, child, report);
    } else if (st.isSymbolicLink()) {
      let target: Buffer;
      try {
        target = await realpath(childAbs, { encoding: "buffer" });
      } catch {
        log.warn({ file: child.shown }, "skipping dangling symlink");
        continue;
      }
      if (!isInsideBytes(root, target)) {
        log.warn({ file: child.shown }, "skipping symlink that points outside the files directory");
        continue;
      }
      if ((await stat(target).catch(() => null))?.isFile()) await addFile(pack, target, child, report);
    }
  }
}

/**
 * The mode bits an entry keeps: permissions with setuid, setgid and sticky. A shared uploads
 * directory is often setgid (its files take the directory's group): without the bit, files
 * the application writes after a restore take its user's group, and the other process of
 * that group can no longer read them. Archives from before keep only the permissions.
 */
const MODE_BITS = 0o7777;

/**
 * An entry's owner, mode bits and time as its tar header keeps them. The time is the whole
 * second the entry was last written in, as GNU tar truncates it, read in nanoseconds: Node's
 * `stat().mtime` rounds to the nearest millisecond, so a file written in the last half
 * millisecond of a second came back a second later than it was.
 */
export function ownerModeTime(st: BigIntStats): { mode: number; mtime: Date; uid: number; gid: number } {
  return {
    mode: Number(st.mode) & MODE_BITS,
    mtime: new Date(Number(st.mtimeNs / 1_000_000_000n) * 1000),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/** An entry removed while the files were archived: counted, left out. Answers no entries. */
function vanished(report: FilesReport, shown: string): [] {
  report.noteRemoved(shown);
  return [];
}

async function addFile(pack: tar.Pack, abs: Buffer, at: EntryPath, report: FilesReport): Promise<void> {
  const rel = at.shown;
  // Opened before its header is written: once open, its bytes stay readable even if the
  // application removes it meanwhile; removed before, it is left out.
  const fh = await open(abs, constants.O_RDONLY).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : Promise.reject(e)));
  if (!fh) {
    vanished(report, rel);
    return;
  }
  try {
    await addOpenFile(pack, fh, at, report);
  } finally {
    await fh.close();
  }
}

/** Zeros to fill a file that shrank while it was read, a block at a time. */
const ZEROS = Buffer.alloc(64 * 1024);

async function addOpenFile(pack: tar.Pack, fh: FileHandle, at: EntryPath, report: FilesReport): Promise<void> {
  const rel = at.shown;
  const st = await fh.stat({ bigint: true });
  // The header promises a size; read exactly that much even if the file grows meanwhile.
  const size = Number(st.size);
  let settle!: (err?: Error | null) => void;
  const finished = new Promise<void>((ok, fail) => {
    settle = (err) => (err ? fail(new Error(`file changed while archiving: ${rel} (${err.message})`)) : ok());
  });
  // Awaited below; a reader that stops early destroys the pack first, and that is no crash.
  finished.catch(() => undefined);
  // Throws once the pack is destroyed (its reader gone): the walk stops there.
  const sink = pack.entry({ name: rel, type: "file", size, ...ownerModeTime(st), ...paxOf(at) }, (err) => settle(err));
  // A reader that fails first (a storage write) destroys the pack with its error, and the
  // entry being written emits it too: unheard, that 'error' would end the worker's process.
  // The callback above has it.
  sink.on("error", () => undefined);
  let read = 0;
  if (size > 0) {
    for await (const chunk of fh.createReadStream({ start: 0, end: size - 1, autoClose: false })) {
      read += (chunk as Buffer).length;
      if (!sink.write(chunk as Buffer)) await drained(sink as unknown as Writer);
    }
  }
  // Truncated meanwhile (the application rewrites it in place): the header promised `size`
  // bytes, and an entry short of them failed the whole backup, its database part included
  // (decision 168). Filled with zeros, as GNU tar does, and said.
  for (let left = size - read; left > 0; left -= ZEROS.length) {
    if (!sink.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left))) await drained(sink as unknown as Writer);
  }
  sink.end(undefined);
  await finished;
  const after = await fh.stat({ bigint: true });
  if (read < size) report.noteChanged(rel, `cut short while it was read: ${read} of ${size} bytes; archived with ${size - read} bytes of zeros at its end`);
  else if (after.size !== st.size || after.mtimeNs !== st.mtimeNs) report.noteChanged(rel, "written to while it was read; archived as read");
}

/** Resolves when input (a tar stream) is fully written into extract, or rejects with input's error. */
async function feed(input: Readable, extract: tar.Extract): Promise<void> {
  try {
    for await (const chunk of input) {
      if (extract.destroyed) continue;
      if (!extract.write(chunk as Buffer)) await drained(extract as unknown as Writer);
    }
    extract.end(undefined);
  } catch (e) {
    extract.destroy(e as Error);
    throw e;
  }
}

/** Splits an entry name into safe path segments, or throws UnsafeTarEntryError. */
export function safeEntrySegments(name: string): string[] {
  if (name.includes("\0")) throw new UnsafeTarEntryError(name, "contains NUL");
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name)) throw new UnsafeTarEntryError(name, "absolute path");
  const segments = name.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new UnsafeTarEntryError(name, "path escapes the destination (`..`)");
  return segments;
}

/** Splits an entry's exact path bytes into safe segments, or throws UnsafeTarEntryError (named by its shown name). */
function safeRawSegments(raw: Buffer, name: string): Buffer[] {
  if (raw.includes(0)) throw new UnsafeTarEntryError(name, "contains NUL");
  if (raw[0] === 0x2f) throw new UnsafeTarEntryError(name, "absolute path");
  const segments: Buffer[] = [];
  let from = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x2f) {
      const seg = raw.subarray(from, i);
      from = i + 1;
      if (seg.length === 0 || (seg.length === 1 && seg[0] === 0x2e)) continue;
      if (seg.length === 2 && seg[0] === 0x2e && seg[1] === 0x2e) throw new UnsafeTarEntryError(name, "path escapes the destination (`..`)");
      segments.push(seg);
    }
  }
  if (!segments.length) throw new UnsafeTarEntryError(name, "empty path");
  return segments;
}

/** A look at the disk the extraction writes to: throws to stop it (disk-reserve.ts). */
export interface DiskCheck {
  everyBytes: number;
  check(): Promise<void>;
}

/**
 * Extracts a tar stream into destDir (created if needed). Any entry with `..` or an absolute
 * path aborts the extraction; links and special files are skipped; existing files are
 * overwritten in place, never followed through a symlink; run as root, each file and
 * directory gets the owner the archive recorded. `checkDisk` is called before the
 * first file, every `everyBytes` written and after the last.
 */
export async function extractTarInto(input: Readable, destDir: string, opts: { checkDisk?: DiskCheck } = {}): Promise<{ files: number; directories: number }> {
  const disk = opts.checkDisk;
  let unchecked = 0;
  // Each file back with its owner, as tar does for root (decision 162): Vaultline as root
  // beside an application that is not (a container's default) gave every restored upload
  // to root, and the application could no longer write into its own directories. Any other
  // user cannot give a file away: its files are its own, as before.
  const asRoot = process.getuid?.() === 0;
  await disk?.check();
  await mkdir(destDir, { recursive: true });
  const root = await realpath(destDir);
  const extract = tar.extract();
  const feeding = feed(input, extract);
  feeding.catch(() => undefined);
  let files = 0;
  let directories = 0;
  /** Each directory's mode and time, set after the last entry, deepest first (as tar delays them). */
  const later: { target: string | Buffer; mode: number; mtime: Date | undefined }[] = [];
  try {
    for await (const entry of extract) {
      const segments = safeEntrySegments(entry.header.name);
      const type = entry.header.type;
      if (segments.length === 0 || (type !== "file" && type !== "directory" && type !== "contiguous-file")) {
        entry.resume();
        continue;
      }
      // The exact bytes where the archive has them (names that are not UTF-8), else the name.
      const raw = (entry.header.pax as Record<string, string> | undefined)?.[RAW_PATH_PAX];
      const exact = raw ? safeRawSegments(Buffer.from(raw, "base64"), entry.header.name) : null;
      const target: string | Buffer = exact ? Buffer.concat([Buffer.from(root), ...exact.flatMap((seg) => [SLASH, seg])]) : path.join(root, ...segments);
      const parent: string | Buffer = exact ? Buffer.concat([Buffer.from(root), ...exact.slice(0, -1).flatMap((seg) => [SLASH, seg])]) : path.dirname(target as string);
      if (type === "directory") {
        await mkdir(target, { recursive: true });
        await assertInside(root, target, entry.header.name);
        if (asRoot) await chown(target, entry.header.uid ?? 0, entry.header.gid ?? 0);
        // Its mode and time once everything inside it is written: a directory without write
        // permission would refuse its own files, and each file written changes its time.
        later.push({ target, mode: (entry.header.mode ?? 0o755) & MODE_BITS, mtime: entry.header.mtime });
        directories++;
        entry.resume();
        continue;
      }
      await mkdir(parent, { recursive: true });
      await assertInside(root, parent, entry.header.name);
      const mode = (entry.header.mode ?? 0o644) & MODE_BITS;
      const fh = await open(
        target,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        mode,
      );
      try {
        for await (const chunk of entry) {
          if (disk && unchecked >= disk.everyBytes) {
            unchecked = 0;
            await disk.check();
          }
          await fh.write(chunk as Buffer);
          unchecked += (chunk as Buffer).length;
        }
        if (asRoot) await fh.chown(entry.header.uid ?? 0, entry.header.gid ?? 0);
        // Exactly the archive's mode: open's mode passes through the umask (a group-writable
        // upload came back 0644), and a chown clears setuid and setgid.
        await fh.chmod(mode);
        if (entry.header.mtime) await fh.utimes(entry.header.mtime, entry.header.mtime);
      } finally {
        await fh.close();
      }
      files++;
    }
  } catch (e) {
    extract.destroy(e as Error);
    input.destroy();
    await feeding.catch(() => undefined);
    throw e;
  }
  await feeding;
  for (const d of later.reverse()) {
    await chmod(d.target, d.mode);
    if (d.mtime) await utimes(d.target, d.mtime, d.mtime);
  }
  await disk?.check();
  return { files, directories };
}

/** Catches a pre-existing symlinked folder in the destination that points elsewhere. */
async function assertInside(root: string, p: string | Buffer, name: string): Promise<void> {
  if (!isInsideBytes(Buffer.from(root), await realpath(p, { encoding: "buffer" }))) {
    throw new UnsafeTarEntryError(name, "destination folder is a symlink leading outside");
  }
}

/** Reads a tar stream to its end, draining every entry; resolves with the entry count. */
export async function countTarEntries(input: Readable): Promise<number> {
  const extract = tar.extract();
  const feeding = feed(input, extract);
  feeding.catch(() => undefined);
  let count = 0;
  try {
    for await (const entry of extract) {
      safeEntrySegments(entry.header.name);
      for await (const _ of entry) void _;
      count++;
    }
  } catch (e) {
    extract.destroy(e as Error);
    input.destroy();
    await feeding.catch(() => undefined);
    throw e;
  }
  await feeding;
  return count;
}
