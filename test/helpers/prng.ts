/** Deterministic PRNG (mulberry32) for fuzz tests, so a failing case can be replayed from its seed, and the mutations the protocol fuzzers share. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;

/** An integer in [0, n). */
export const int = (rand: Rand, n: number): number => Math.floor(rand() * n);

export const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)] as T;

/** Byte-level mutations of serialized text: flip, truncate, insert, duplicate. */
export function mutateText(rand: Rand, text: string): string {
  let out = text;
  for (let n = 1 + int(rand, 3); n > 0; n--) {
    const at = int(rand, out.length + 1);
    switch (int(rand, 4)) {
      case 0:
        out = out.slice(0, at) + String.fromCharCode(32 + int(rand, 95)) + out.slice(at + 1);
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2:
        out = out.slice(0, at) + pick(rand, ['"', '{', '}', ',', ':', '\\', '\u0000', 'null', '[']) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + out.slice(int(rand, out.length), at + int(rand, 40)) + out.slice(at);
    }
  }
  return out;
}


export function randomBytes(rand: Rand, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(rand, 256);
  return out;
}

/** Flips 1-3 random bits among the first `within` bytes (default all) of a copy of `buf`. */
export function flipBits(rand: Rand, buf: Buffer, within = buf.length): Buffer {
  const out = Buffer.from(buf);
  const flips = 1 + int(rand, 3);
  for (let i = 0; i < flips && out.length > 0; i++) {
    const at = int(rand, Math.min(out.length, within));
    out[at] = (out[at] as number) ^ (1 << int(rand, 8));
  }
  return out;
}
