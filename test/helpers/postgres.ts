/**
 * A real PostgreSQL server for a test: Debian's postgresql binaries, a fresh
 * cluster (`initdb`) in a temporary folder, started on a free port with its
 * Unix socket in that folder, stopped (and the folder removed) at the end.
 * As root (CI) the server runs as the `postgres` OS user, since PostgreSQL
 * refuses to run as root. `stop()` and `start()` let a test take the database
 * away mid-run and bring it back on the same port with the same data.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../loadtest/GatewayProcess.js';

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** Whether the server is running (between start() and stop()). */
  readonly running: boolean;
  /** Stops the server (fast shutdown: open connections are cut, as in an outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server for good and removes its folder. */
  destroy(): Promise<void>;
}

/** The folder of Debian's PostgreSQL server binaries (the newest installed version). */
export async function postgresBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'postgres')));
  if (dir === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package postgresql; .ci/setup installs it)');
  return dir;
}

const asRoot = process.getuid?.() === 0;

/** argv that runs `command` as the postgres OS user when we are root. */
function asPostgres(command: string, args: readonly string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

export async function startPostgres(options: { log?: boolean } = {}): Promise<TestPostgres> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(path.join(tmpdir(), 'sgw-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  const [initdb, initArgs] = asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  await run(initdb, initArgs, { timeout: 60_000 });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    // fsync off: a test cluster, thrown away; the tests exercise outages by stopping the server, not by power loss.
    const [command, args] = asPostgres(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']);
    const proc = spawn(command, args, { stdio: ['ignore', 'ignore', options.log === true ? 'inherit' : 'ignore'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start on port ${port} (exit code ${String(proc.exitCode)})`);
      await sleep(100);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    // Fast shutdown through pg_ctl, which signals the postmaster itself (runuser would not pass a signal on).
    const [ctl, ctlArgs] = asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    await run(ctl, ctlArgs, { timeout: 30_000 }).catch(() => proc.kill('SIGKILL'));
    await exited;
  };

  await start();
  return {
    url,
    port,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
