/**
 * CPU and memory of a process and its descendants, from /proc: recognition
 * workers are child processes (ASR_ISOLATION=process), so the gateway's own
 * /proc entry no longer holds their CPU or memory.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface TreeUsage {
  /** utime + stime of the process and its live descendants, plus what its reaped children used (cutime + cstime); clock ticks. */
  readonly cpuTicks: number;
  /** VmRSS summed over the process and its live descendants, MB (shared pages count once per process). */
  readonly rssMb: number;
  readonly processes: number;
}

interface Stat {
  readonly ppid: number;
  readonly ticks: number;
  readonly childTicks: number;
}

async function stat(pid: number): Promise<Stat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: ppid is field 4, utime/stime 14/15, cutime/cstime 16/17.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined; // gone meanwhile
  }
}

async function rssKb(pid: number): Promise<number> {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export async function processTreeUsage(root: number): Promise<TreeUsage> {
  const stats = new Map<number, Stat>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = await stat(Number(entry));
    if (s !== undefined) stats.set(Number(entry), s);
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of stats) {
      if (!tree.has(pid) && tree.has(s.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let cpuTicks = stats.get(root)?.childTicks ?? 0;
  let kb = 0;
  for (const pid of tree) {
    cpuTicks += stats.get(pid)?.ticks ?? 0;
    kb += await rssKb(pid);
  }
  return { cpuTicks, rssMb: kb / 1024, processes: tree.size };
}
