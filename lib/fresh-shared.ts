// Requests for the same answer that arrive together share one computation, and no answer
// is older than the request it goes to (decision 104). Per key:
// - nothing in flight: the caller starts a run;
// - a run in flight: it may have read the database before the caller arrived, so the
//   caller does not join it; it joins the ONE run that starts when that one settles,
//   shared by everyone who arrived in the meantime.
// So each answer was read after its request arrived (exactly what an unshared request
// gets), and under N concurrent pollers a key costs at most one run at a time plus one
// queued, instead of N. Nothing is kept once a key has nothing in flight: the map is bounded
// by the keys in flight, and there is no age to reason about.
export interface FreshShared<T> {
  get(key: string, run: () => Promise<T>): Promise<T>;
  /** Keys with a run in flight or queued (tests). */
  size(): number;
}

export function createFreshShared<T>(): FreshShared<T> {
  const keys = new Map<string, { current: Promise<unknown>; next: Promise<T> | null }>();
  return {
    get(key, run) {
      const entry = keys.get(key);
      if (!entry) {
        const current = run();
        const e = { current: current as Promise<unknown>, next: null as Promise<T> | null };
        keys.set(key, e);
        const done = () => {
          if (keys.get(key) === e && !e.next) keys.delete(key);
        };
        current.then(done, done);
        return current;
      }
      if (entry.next) return entry.next;
      const settled = entry.current.then(
        () => undefined,
        () => undefined,
      );
      const next = settled.then(() => run());
      entry.next = next;
      const promote = () => {
        // The queued run becomes the current one: later callers queue behind it.
        if (keys.get(key) !== entry) return;
        entry.current = next;
        entry.next = null;
        const done = () => {
          if (keys.get(key) === entry && entry.current === next && !entry.next) keys.delete(key);
        };
        next.then(done, done);
      };
      void settled.then(promote);
      return next;
    },
    size: () => keys.size,
  };
}
