/** `buf` cut into random chunks, 1 byte to 64 KiB, from a seed (a failure is reproducible). */
export function chunks(buf: Buffer, seed: number): Buffer[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s / 0x7fffffff);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, Math.floor(rand() < 0.3 ? rand() * 16 : rand() * 65536));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}
