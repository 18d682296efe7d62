// A deployment's log, appended as output arrives: buffered for a moment so a chatty
// command is a handful of UPDATEs, not one per chunk, and capped so a runaway script
// cannot fill the catalogue.
import type { BackupContext } from "../backup/context";
import { componentLogger } from "../log";

export const LOG_CAP_BYTES = 1024 * 1024;
const FLUSH_MS = 250;

const log = componentLogger("deploy");

export interface DeployLog {
  /** Raw output, as it came. */
  write(text: string): void;
  /** A timestamped step line: "[2026-11-21T10:00:00.000Z] text". */
  step(text: string): void;
  flush(): Promise<void>;
}

export function deployLog(ctx: Pick<BackupContext, "db">, deploymentId: string, opts: { capBytes?: number; startBytes?: number } = {}): DeployLog {
  const cap = opts.capBytes ?? LOG_CAP_BYTES;
  let used = opts.startBytes ?? 0;
  let truncated = false;
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const flushNow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return chain;
    const text = pending;
    pending = "";
    chain = chain.then(() =>
      ctx.db.$executeRaw`UPDATE "Deployment" SET log = log || ${text} WHERE id = ${deploymentId}`.then(
        () => undefined,
        (e: Error) => log.warn({ deploymentId, err: e.message }, "deployment log not written"),
      ),
    );
    return chain;
  };

  const write = (text: string) => {
    if (!text || truncated) return;
    const bytes = Buffer.byteLength(text);
    if (used + bytes > cap) {
      // Cut on a character boundary, then say so once.
      const room = Math.max(0, cap - used);
      const head = Buffer.from(text).subarray(0, room).toString("utf8").replace(/\uFFFD$/, "");
      pending += `${head}\n[log truncated: over ${Math.round(cap / 1024)} KiB; further output dropped]\n`;
      used = cap;
      truncated = true;
    } else {
      pending += text;
      used += bytes;
    }
    timer ??= setTimeout(() => void flushNow(), FLUSH_MS);
  };

  return {
    write,
    step(text) {
      // Steps are short and matter more than output: they are written even past the cap.
      const line = `[${new Date().toISOString()}] ${text}\n`;
      if (truncated) {
        pending += line;
        timer ??= setTimeout(() => void flushNow(), FLUSH_MS);
      } else write(line);
    },
    flush: () => flushNow(),
  };
}
