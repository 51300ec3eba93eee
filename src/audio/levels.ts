/** Signal level helpers on 16-bit PCM. */

/** Level of a frame in dBFS (0 = full scale sine peak); -100 for digital silence. */
export function frameLevelDb(pcm: Int16Array): number {
  if (pcm.length === 0) return -100;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i] as number;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / pcm.length) / 32768;
  return rms <= 1e-5 ? -100 : 20 * Math.log10(rms);
}
