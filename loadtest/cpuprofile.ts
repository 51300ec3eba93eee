/**
 * `node dist/loadtest/cpuprofile.js <file.cpuprofile> [top]`: where a V8 CPU
 * profile (the load test's `--profile`) spent its time, by function (self
 * time) and by source file or package, idle time left out.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Self time per function and per file, in ms, busiest first. */
export function summarizeProfile(profile: Profile): { totalMs: number; idleMs: number; functions: [string, number][]; files: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    totalMs += ms;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const file = url === '' ? `(${functionName || 'native'})` : url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/').replace(/.*\/dist\//, 'dist/');
    const fn = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
    const group = file.startsWith('node_modules/') ? file.split('/').slice(0, file.split('/')[1]?.startsWith('@') === true ? 3 : 2).join('/') : file;
    files.set(group, (files.get(group) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs, idleMs, functions: sorted(functions), files: sorted(files) };
}

async function main(): Promise<void> {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: node dist/loadtest/cpuprofile.js <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const summary = summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as Profile);
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number): string => `${((ms / busy) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(`${file}: ${(summary.totalMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (main thread)\n\nby file or package (self time):\n`);
  for (const [name, ms] of summary.files.slice(0, top)) process.stdout.write(`${pct(ms)}  ${name}\n`);
  process.stdout.write('\nby function (self time):\n');
  for (const [name, ms] of summary.functions.slice(0, top)) process.stdout.write(`${pct(ms)}  ${name}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
