// A store that takes what is written to it only once opened: until then the writer — pg_dump,
// its output unread — waits, holding whatever it holds (its table locks, the target's backup
// lock). Reads and everything else go straight to the store it wraps.
import { PassThrough, type Readable } from "node:stream";
import type { Storage } from "../../lib/backup/storage/types";

export function gatedStorage(inner: Storage) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "put") {
        return (key: string, body: Readable, opts?: Parameters<Storage["put"]>[2]) => {
          const held = new PassThrough();
          void opened.then(() => body.pipe(held));
          body.once("error", (e) => held.destroy(e));
          // A writer stopped before the store opened (a cancelled backup) ends the put too.
          body.once("close", () => {
            if (!body.readableEnded) held.destroy(new Error("the writer stopped before the store took it"));
          });
          return target.put(key, held, opts);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { storage, open };
}

