// The V8 flags a worker process runs with (`npm run worker`, and the bench's and fault
// suite's engine child, so that what they measure is what runs).
//
// A backup streams hundreds of megabytes through short-lived chunks and promises: with
// V8's default young generation (16 MiB semi-spaces) the process sat at ~207 MB and
// peaked at 260 MB on a 64 MB database; with 2 MiB semi-spaces it stays at ~157 MB and
// peaks at 193 MB (issue 14 §3, decision 56). Scavenges become more frequent but each
// one is small: the bytes themselves live in Buffers outside the heap.
// --liftoff-only: Prisma's query compiler is WASM, and TurboFan's optimised copy of it
// cost ~25 MB of RSS outside the JS heap; the worker's few queries a second do not need
// it (decision 108).
// --external-memory-accounted-in-global-limit: V8 otherwise starts a full mark-compact
// each time Buffers' bytes grow by ~64 MB since the last one, whatever the heap holds. A
// restore streams ~0.5 GB of short-lived Buffers per 512 MB of database through the
// worker: 5-27 full GCs of the worker's ~45 MB heap, each freeing 1-3 MB (the Buffers die
// in scavenges anyway), CPU taken from the PostgreSQL it restores into. With the flag
// those bytes count toward the heap's own limit: 0-1 full GCs per restore, and the
// restore process's CPU 2.2-2.5 s instead of 2.4-4.6 s (decision 123).
export const WORKER_NODE_FLAGS = ["--max-semi-space-size=2", "--liftoff-only", "--external-memory-accounted-in-global-limit"] as const;

/**
 * The environment a worker process starts with (decision 199): glibc's malloc keeps at most two
 * arenas. By default it gives each thread that allocates its own (up to 8 per CPU): the main
 * thread, libuv's pool (zstd, hashing, file writes) and V8's helpers each held a few MB of
 * freed memory in arenas of their own. With two, a 512 MB backup's peak RSS was 166–168 MiB
 * instead of 176–187 MiB, as fast. glibc reads it once, at start: it must be in the
 * environment the process is started with, so `npm run worker`, `npm start`'s web process and
 * the bench's engine child set it (a value already set is kept).
 */
export const WORKER_ENV = { MALLOC_ARENA_MAX: "2" } as const;

/** `env` with WORKER_ENV's variables where `env` has none of its own. */
export function withWorkerEnv<E extends Record<string, string | undefined>>(env: E): E {
  return { ...WORKER_ENV, ...env };
}
