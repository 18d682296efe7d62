// Multipart part size and concurrency for an upload of a given expected size. S3 allows
// at most 10,000 parts of 5 MiB–5 GiB and objects of at most 5 TiB; R2 also wants every
// part but the last to be the same size, so the size is chosen once, before the first
// part, from an estimate (pg_database_size, or the previous archive × headroom) rather
// than grown as the upload goes. Parts wait in temp files (s3-spooled-upload.ts): held in
// memory by lib-storage, sent parts stay allocated until V8's next full GC and lifted the
// backup process ~40-60 MB (decision 107). The budget bounds the parts held at once (in
// flight + the one being filled), on disk or, when asked, in memory: concurrency shrinks
// as parts grow, down to one in flight.
const MiB = 1024 * 1024;

export const S3_LIMITS = {
  maxParts: 10_000,
  minPartSize: 5 * MiB,
  maxPartSize: 5 * 1024 * MiB,
  maxObjectBytes: 5 * 1024 * 1024 * MiB,
} as const;

export interface PartPlanInput {
  /** Estimated stored bytes; unknown means "plan for the default part size". */
  expectedBytes?: number | null;
  /** The store's part-count limit (S3: 10,000); lowered in tests. */
  maxParts?: number;
  /** Part size when the estimate does not need bigger ones (8 MiB: small objects stay cheap to retry). */
  preferredPartSize?: number;
  /** Bytes of parts the upload may hold at once (parts in flight + the one being filled). */
  bufferBudgetBytes?: number;
  /** Hold parts in memory (lib-storage) when they fit the budget; default: in temp files. */
  partsInMemory?: boolean;
  /** Upper bound on parts in flight. */
  maxQueueSize?: number;
}

export interface PartPlan {
  partSize: number;
  queueSize: number;
  /** The largest object this plan can upload within maxParts. */
  capacityBytes: number;
  /** Part buffers held in memory at most: (queueSize + 1) × partSize; 0 when spooled. */
  bufferBytes: number;
  /** Parts wait in temp files ((queueSize + 1) at most), not in memory: the default, and whenever one part in flight would not fit the budget. */
  spool: boolean;
}

/** The object cannot be stored in one S3 object at all. */
export class ObjectTooLargeError extends Error {
  constructor(bytes: number, limit = "S3's 5 TiB object limit") {
    super(`an archive of about ${Math.ceil(bytes / 1024 ** 3)} GiB exceeds ${limit}`);
    this.name = "ObjectTooLargeError";
  }
}

/**
 * The smallest part size (a whole number of MiB, at least the preferred size) for which
 * expectedBytes fits in maxParts, and as many parts in flight as the buffer budget allows
 * (at least one).
 */
export function planMultipart(input: PartPlanInput = {}): PartPlan {
  const maxParts = input.maxParts ?? S3_LIMITS.maxParts;
  const preferred = Math.max(input.preferredPartSize ?? 8 * MiB, S3_LIMITS.minPartSize);
  const budget = input.bufferBudgetBytes ?? 64 * MiB;
  const maxQueue = input.maxQueueSize ?? 4;
  const expected = Math.max(0, input.expectedBytes ?? 0);
  if (expected > S3_LIMITS.maxObjectBytes) throw new ObjectTooLargeError(expected);
  const needed = Math.ceil(expected / maxParts / MiB) * MiB;
  if (needed > S3_LIMITS.maxPartSize) throw new ObjectTooLargeError(expected, `${maxParts} parts of 5 GiB`);
  const partSize = Math.max(preferred, needed);
  const queueSize = Math.max(1, Math.min(maxQueue, Math.floor(budget / partSize) - 1));
  const spool = !input.partsInMemory || (queueSize + 1) * partSize > budget;
  return { partSize, queueSize, capacityBytes: partSize * maxParts, bufferBytes: spool ? 0 : (queueSize + 1) * partSize, spool };
}
