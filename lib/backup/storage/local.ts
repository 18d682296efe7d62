// Backups on local disk. A key becomes a file under root; an object appears under its
// final name only once complete and fsynced, so a crash or a cancelled backup can never
// leave a half-written file that looks like a backup.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink, access } from "node:fs/promises";
import { DiskReserveError, diskCheckInterval, reserveCheck } from "../disk-reserve";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertSafeKey, assertSafePrefix } from "./keys";
import {
  InvalidKeyError,
  ObjectNotFoundError,
  StorageUnavailableError,
  type PutOptions,
  type Storage,
  type StoredObject,
} from "./types";

/** Temp files carry this marker so list() never reports an unfinished upload. */
const TEMP_MARKER = ".vaultline-tmp-";

function isTempName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_MARKER);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export { DiskReserveError };

export class LocalStorage implements Storage {
  readonly kind = "local" as const;
  readonly root: string;
  /** Free space a streamed write leaves on the disk (0: none kept). */
  readonly reserveBytes: number;

  constructor(root: string, opts: { reserveBytes?: number } = {}) {
    this.root = path.resolve(root);
    this.reserveBytes = opts.reserveBytes ?? 0;
  }

  /**
   * Throws DiskReserveError when the disk holding `dir` has less than the reserve free. The
   * disk is often the one PostgreSQL writes to as well (the embedded default keeps both under
   * DATA_DIR): full, it stops the server, and with it Vaultline and maybe the application.
   */
  private checkReserve(dir: string): Promise<void> {
    return reserveCheck(dir, this.reserveBytes, {
      what: "storage",
      shownDir: this.root,
      advice: "Free space there (older backups can be pruned: Settings → Retention), and back up again",
    })();
  }

  get description(): string {
    return this.root;
  }

  /** Maps a key to its file, refusing anything that would resolve outside root. */
  private pathFor(key: string): string {
    assertSafeKey(key);
    const file = path.resolve(this.root, ...key.split("/"));
    if (!file.startsWith(this.root + path.sep)) {
      throw new InvalidKeyError(key, "resolves outside the storage root");
    }
    return file;
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<{ size: number }> {
    const file = this.pathFor(key);
    let size = 0;
    let unchecked = 0;
    const dir = path.dirname(file);
    const check = () => this.checkReserve(dir);
    const every = diskCheckInterval(this.reserveBytes);
    await this.writeAtomically(file, async (fh) => {
      await check();
      await pipeline(
        body,
        async function (source: AsyncIterable<Buffer | Uint8Array | string>) {
          for await (const chunk of source) {
            if (unchecked >= every) {
              unchecked = 0;
              await check();
            }
            const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            // A short write is possible on some filesystems; loop until all of it lands.
            let offset = 0;
            while (offset < buf.length) {
              const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
              offset += bytesWritten;
            }
            size += buf.length;
            unchecked += buf.length;
            opts.onBytes?.(buf.length);
          }
        },
        { signal: opts.signal },
      );
      // The last bytes too: a write never lands leaving less than the reserve.
      await check();
    });
    return { size };
  }

  async putBytes(key: string, data: Buffer | string): Promise<void> {
    const file = this.pathFor(key);
    await this.writeAtomically(file, async (fh) => {
      await fh.writeFile(data);
    });
  }

  /** temp file in the same dir → write → fsync → rename → fsync dir; temp removed on any failure. */
  private async writeAtomically(
    file: string,
    write: (fh: import("node:fs/promises").FileHandle) => Promise<void>,
  ): Promise<void> {
    const dir = path.dirname(file);
    await this.ensureDir(dir);
    const temp = path.join(dir, `.${path.basename(file)}${TEMP_MARKER}${randomBytes(6).toString("hex")}`);
    const fh = await open(temp, "wx", 0o600);
    let closed = false;
    try {
      await write(fh);
      await fh.sync();
      await fh.close();
      closed = true;
      await rename(temp, file);
    } catch (e) {
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    await fsyncDir(dir);
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StorageUnavailableError(`local storage directory ${dir} cannot be created: ${errno(e) ?? String(e)}`, {
        cause: e,
      });
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathFor(key);
    try {
      // Opening first turns a missing file into ObjectNotFoundError now, not as a later stream error.
      const fh = await open(file, "r");
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw new ObjectNotFoundError(key);
      }
      return fh.createReadStream({ highWaterMark: 1 << 20 });
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") throw new ObjectNotFoundError(key);
      throw e;
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathFor(key));
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR" || errno(e) === "EISDIR") throw new ObjectNotFoundError(key);
      throw e;
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.pathFor(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathFor(key);
    try {
      await unlink(file);
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return;
      throw e;
    }
    // Prune now-empty parent folders so deleted backups leave no empty YYYY/MM/<id> trees.
    let dir = path.dirname(file);
    while (dir.startsWith(this.root + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertSafePrefix(prefix);
    // Start at the deepest folder the prefix names completely; filter the rest by string.
    const slash = prefix.lastIndexOf("/");
    const base = slash === -1 ? "" : prefix.slice(0, slash);
    yield* this.walk(base, prefix);
  }

  private async *walk(relDir: string, prefix: string): AsyncGenerator<StoredObject> {
    const abs = relDir ? path.join(this.root, ...relDir.split("/")) : this.root;
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return;
      throw e;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const key = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(key + "/")) yield* this.walk(key, prefix);
      } else if (entry.isFile() && !isTempName(entry.name) && key.startsWith(prefix)) {
        try {
          const s = await stat(path.join(abs, entry.name));
          yield { key, size: s.size, lastModified: s.mtime };
        } catch (e) {
          if (errno(e) !== "ENOENT") throw e; // deleted while listing
        }
      }
    }
  }

  async downloadUrl(key: string, _expiresSeconds: number): Promise<string | null> {
    assertSafeKey(key);
    return null;
  }

  async ping(): Promise<void> {
    await this.ensureDir(this.root);
    try {
      await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (e) {
      throw new StorageUnavailableError(`local storage directory ${this.root} is not writable: ${errno(e) ?? String(e)}`, {
        cause: e,
      });
    }
  }

  async removeIncompleteUploads(prefix: string, busy: (key: string) => boolean): Promise<number> {
    assertSafePrefix(prefix);
    let removed = 0;
    const visit = async (relDir: string): Promise<void> => {
      const abs = relDir ? path.join(this.root, ...relDir.split("/")) : this.root;
      let entries;
      try {
        entries = await readdir(abs, { withFileTypes: true });
      } catch (e) {
        if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return;
        throw e;
      }
      for (const entry of entries) {
        const key = relDir ? `${relDir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(key + "/")) await visit(key);
        } else if (isTempName(entry.name) && key.startsWith(prefix)) {
          // The object a temp file was becoming: ".<name>.vaultline-tmp-<random>".
          const target = `${relDir ? `${relDir}/` : ""}${entry.name.slice(1, entry.name.indexOf(TEMP_MARKER))}`;
          if (busy(target)) continue;
          await unlink(path.join(abs, entry.name)).catch(() => undefined);
          removed++;
        }
      }
    };
    const slash = prefix.lastIndexOf("/");
    await visit(slash === -1 ? "" : prefix.slice(0, slash));
    return removed;
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }

}
