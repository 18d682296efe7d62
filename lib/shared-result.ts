// One result shared by every caller for a while: concurrent callers share the run in
// flight; after `ttlMs` a caller gets the previous result while one new run starts in the
// background; past `maxAgeMs` (a refresh that keeps failing or hanging) callers wait for a
// fresh run. A single-key stale-while-revalidate: lru-cache's fetch() does this and more,
// but a dependency for one key and twenty lines was not worth it (decision 53).
export interface SharedResult<T> {
  get(): Promise<T>;
  reset(): void;
}

export function createSharedResult<T>(run: () => Promise<T>, opts: { ttlMs: number; maxAgeMs: number; now?: () => number }): SharedResult<T> {
  const now = opts.now ?? Date.now;
  let last: { at: number; value: T } | null = null;
  let inFlight: Promise<T> | null = null;
  const refresh = () =>
    (inFlight ??= run()
      .then((value) => {
        last = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = null;
      }));
  return {
    get() {
      const age = last ? now() - last.at : Infinity;
      if (last && age <= opts.ttlMs) return Promise.resolve(last.value);
      if (last && age <= opts.maxAgeMs) {
        refresh().catch(() => {});
        return Promise.resolve(last.value);
      }
      return refresh();
    },
    reset() {
      last = null;
    },
  };
}
