// A periodic task of the worker: runs `fn` every `ms`, never two at once, its failures
// logged. Stopping clears the timer and then waits for a run in flight: a sweep or the
// audit mirror still writing to storage must not outlive the worker it belongs to (a test
// removing its store after worker.stop() met ENOTEMPTY from an audit copy written
// meanwhile; a shutdown must not cut such a write short either). The wait is bounded: a run
// stuck on a connection that only the shutdown would close must not hold the shutdown.
export type Stop = () => Promise<void> | void;

export function every(ms: number, what: string, fn: () => Promise<unknown>, onError: (what: string, e: Error) => void, stopWaitMs = 10_000): Stop {
  let inFlight: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = fn()
      .then(
        () => undefined,
        (e: Error) => onError(what, e),
      )
      .finally(() => (inFlight = null));
  }, ms);
  return async () => {
    clearInterval(timer);
    if (!inFlight) return;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([inFlight, new Promise<void>((r) => (timeout = setTimeout(r, stopWaitMs)))]);
    clearTimeout(timeout);
  };
}
