import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.js';

/** The SIPREC client scenario (test/fixtures/sipp/siprec-src.xml). */
export const SIPREC_SCENARIO = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'sipp', 'siprec-src.xml');
/** The same with a digest challenge answered first (-au/-ap give the credentials). */
export const SIPREC_DIGEST_SCENARIO = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'sipp', 'siprec-src-digest.xml');

export interface SippRun {
  /** The ports of the answer's two m-lines, in order, once the 200 OK came. */
  readonly answeredPorts: Promise<readonly [number, number]>;
  /** sipp's exit code: 0 when every message of the scenario went as written. */
  readonly exit: Promise<number>;
  /** sipp's stdout and stderr, for a failure message. */
  output(): string;
}

/**
 * Runs Debian's sipp (package sip-tester) as a SIPREC client against
 * 127.0.0.1:`port`: one session, `holdMs` between the ACK and the BYE.
 * `keys` fill the scenario's [session_id], [customer_aor], [agent_aor].
 */
export function runSippSiprec(options: {
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly holdMs: number;
  readonly keys: Readonly<Record<string, string>>;
  /** Scratch directory for sipp's log files. */
  readonly dir: string;
  /** Default SIPREC_SCENARIO. */
  readonly scenario?: string;
  /** Digest credentials for a scenario with [authentication]. */
  readonly auth?: { readonly username: string; readonly password: string };
}): SippRun {
  const logFile = path.join(options.dir, `sipp-${options.transport}-${Date.now()}.log`);
  const args = [
    `127.0.0.1:${options.port}`,
    '-sf', options.scenario ?? SIPREC_SCENARIO,
    ...(options.auth === undefined ? [] : ['-au', options.auth.username, '-ap', options.auth.password]),
    '-m', '1',
    '-d', String(options.holdMs),
    '-i', '127.0.0.1',
    '-t', options.transport === 'udp' ? 'u1' : 't1',
    '-trace_logs', '-log_file', logFile,
    '-nostdin',
    '-timeout', `${Math.ceil(options.holdMs / 1000) + 20}s`,
    '-timeout_error',
    ...Object.entries(options.keys).flatMap(([key, value]) => ['-key', key, value]),
  ];
  const child = spawn('sipp', args, { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000)));
  const exit = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? -1));
  });
  const answeredPorts = (async (): Promise<readonly [number, number]> => {
    for (;;) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const match = /answered-ports (\d+) (\d+)/.exec(log);
      if (match !== null) return [Number(match[1]), Number(match[2])] as const;
      if (child.exitCode !== null) throw new Error(`sipp ended (${child.exitCode}) before the 200 OK: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  // A scenario that logs no ports (or a run that fails) must not leave an unhandled rejection.
  answeredPorts.catch(() => undefined);
  return { answeredPorts, exit, output: () => output };
}
