/**
 * Where a recognition worker runs. `process` (the default) forks a child
 * process: a native engine that segfaults or aborts ends that process only,
 * and the pool replaces it. `thread` runs the worker on a worker thread of
 * the gateway's own process: cheaper to start and to feed, but a native crash
 * there takes the gateway down with every call on it.
 *
 * Both carry the same messages (protocol.ts); a child process gets them through
 * its IPC channel with V8 serialisation, so ArrayBuffers arrive as they left.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.js';

export const WORKER_ISOLATIONS = ['process', 'thread'] as const;
export type WorkerIsolation = (typeof WORKER_ISOLATIONS)[number];

export interface WorkerEvents {
  readonly message: (message: FromWorker) => void;
  /** The host could not be started or failed outside a message (logged by the pool). */
  readonly error: (err: Error) => void;
  /** `signal` is set when a child process was killed by one (SIGSEGV, SIGABRT, SIGKILL...). */
  readonly exit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One running worker, thread or process. */
export interface WorkerHost {
  readonly isolation: WorkerIsolation;
  /** OS process id of a child process; undefined for a thread (it shares the gateway's). */
  readonly pid: number | undefined;
  /** `transfer` moves the buffers to a thread; a process gets a copy (the sender must not reuse them either way). */
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Ends the worker at once (no clean-up in it); resolves when it has gone. */
  terminate(): Promise<void>;
  /** Settles when the worker has gone, however it went. */
  readonly exited: Promise<WorkerExit>;
}

const WORKER_ENTRY = new URL('./worker.js', import.meta.url);

export function startWorker(isolation: WorkerIsolation, name: string, events: WorkerEvents): WorkerHost {
  return isolation === 'process' ? startProcess(name, events) : startThread(name, events);
}

function startThread(name: string, events: WorkerEvents): WorkerHost {
  const worker = new Worker(WORKER_ENTRY, { name });
  const exited = new Promise<WorkerExit>((resolve) => worker.once('exit', (code) => resolve({ code, signal: null })));
  worker.on('message', events.message);
  worker.on('error', events.error);
  worker.on('exit', (code) => events.exit(code, null));
  return {
    isolation: 'thread',
    pid: undefined,
    exited,
    post: (message, transfer) => worker.postMessage(message, transfer),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

function startProcess(name: string, events: WorkerEvents): WorkerHost {
  const child: ChildProcess = fork(fileURLToPath(WORKER_ENTRY), [name], {
    serialization: 'advanced',
    // Not the gateway's own flags (--inspect, --test...): the worker is a plain program.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A child that never started has no exit to wait for.
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  child.on('message', (message) => events.message(message as FromWorker));
  child.on('error', events.error);
  child.on('exit', (code, signal) => events.exit(code, signal));
  return {
    isolation: 'process',
    exited,
    get pid() {
      return child.pid;
    },
    post: (message) => {
      // A dead child's channel is closed: the exit event reports it, sending is a no-op.
      if (child.connected) child.send(message);
    },
    terminate: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
