/** A uniform number in [0, 1). */
export type Rand = () => number;

/**
 * mulberry32: a small deterministic generator, so that made-up data (the
 * demo's past calls, the benchmark's synthetic records) is the same for the
 * same seed on every run.
 */
export function seeded(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
