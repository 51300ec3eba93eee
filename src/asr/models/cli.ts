/**
 * `speech-gateway models list | download <name...> | verify <name...> [--cache DIR] [--base-url URL] [--force]`
 * Exit codes: 0 ok, 1 failure, 2 usage, 130 interrupted (Ctrl-C during a download).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { GatewayError, errorMessage } from '../../errors.js';
import { catalog, defaultModelsDir, findModel, isInstalled, isModelName, manualInstallHint, modelUrl, modelsBaseUrl } from './catalog.js';
import { downloadModel, formatBytes, verifyModel, type ModelSource } from './download.js';

export interface ModelsIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Download progress; default: stderr. */
  readonly progress?: NodeJS.WritableStream | null;
  readonly signal?: AbortSignal;
}

export const MODELS_USAGE = `Usage: speech-gateway models <command> [options]

  list                    known models: name, language, installed or not, path
  download <name...>      download, verify and install models into the cache
  verify <name...>        re-check installed models (layout, install manifest)

Options:
  --cache DIR             model cache (env VOSK_MODELS_DIR; default ~/.cache/speech-gateway/models)
  --base-url URL          where archives are fetched (env VOSK_MODELS_BASE_URL; default https://alphacephei.com/vosk/models)
  --force                 download: replace an installed model (the old one stays if the new one fails)

Then use a model by name or path: VOSK_MODEL=vosk-model-small-en-us-0.15, VOSK_MODEL_NL=vosk-model-small-nl-0.22`;

interface Parsed {
  readonly command: string;
  readonly names: string[];
  readonly cache?: string;
  readonly baseUrl?: string;
  readonly force: boolean;
  readonly help: boolean;
}

class UsageError extends Error {}

function parse(argv: readonly string[]): Parsed {
  const names: string[] = [];
  let cache: string | undefined;
  let baseUrl: string | undefined;
  let force = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--cache') cache = value();
    else if (flag === '--base-url') baseUrl = value();
    else if (flag === '--force' && eq < 0) force = true;
    else if (flag === '--help' || flag === '-h') help = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
    else names.push(arg);
  }
  const command = names.shift() ?? '';
  return { command, names, force, help, ...(cache !== undefined ? { cache } : {}), ...(baseUrl !== undefined ? { baseUrl } : {}) };
}

/** Runs `models ...` (argv after the word `models`). Resolves to the exit code. */
export async function runModelsCommand(argv: string[], io: ModelsIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);
  const err = (line: string): void => void io.stderr.write(`${line}\n`);
  let args: Parsed;
  try {
    args = parse(argv);
  } catch (e) {
    err(`speech-gateway models: ${errorMessage(e)}\n\n${MODELS_USAGE}`);
    return 2;
  }
  if (args.help || args.command === 'help') {
    out(MODELS_USAGE);
    return 0;
  }
  const cacheDir = args.cache !== undefined ? path.resolve(args.cache) : defaultModelsDir(io.env);
  const baseUrl = modelsBaseUrl(args.baseUrl, io.env);
  const usage = (message: string): number => {
    err(`speech-gateway models: ${message}\n\n${MODELS_USAGE}`);
    return 2;
  };

  switch (args.command) {
    case 'list': {
      if (args.names.length > 0) return usage('list takes no names');
      const rows: { name: string; language: string; description: string }[] = catalog(baseUrl).map((e) => ({ name: e.name, language: e.language, description: e.description }));
      for (const extra of installedNames(cacheDir)) {
        if (!rows.some((r) => r.name === extra)) rows.push({ name: extra, language: '?', description: 'not in the catalog' });
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      out(`${'name'.padEnd(width)}  language  installed  path`);
      for (const row of rows) {
        const installed = isInstalled(row.name, cacheDir);
        out(`${row.name.padEnd(width)}  ${row.language.padEnd(8)}  ${(installed ? 'yes' : 'no').padEnd(9)}  ${path.join(cacheDir, row.name)}`);
      }
      out(`\ncache: ${cacheDir}`);
      return 0;
    }
    case 'download': {
      if (args.names.length === 0) return usage('download needs at least one model name (see `models list`)');
      const bad = args.names.find((n) => !isModelName(n));
      if (bad !== undefined) return usage(`'${bad}' is not a Vosk model name (vosk-model-...; see \`models list\`)`);
      // Ctrl-C cancels cleanly: the temp dir is removed and any existing install stays.
      const interrupt = io.signal === undefined ? new AbortController() : undefined;
      const onSigint = (): void => interrupt?.abort();
      if (interrupt) process.once('SIGINT', onSigint);
      const signal = io.signal ?? interrupt?.signal;
      let failed = 0;
      try {
        for (const name of args.names) {
          if (signal?.aborted) break;
          const entry = findModel(name, baseUrl);
          const source: ModelSource = entry ?? { name, url: modelUrl(name, baseUrl) };
          if (entry === undefined) err(`note: ${name} is not in the catalog; trying ${source.url} (no size or checksum to compare)`);
          try {
            const result = await downloadModel(source, {
              cacheDir,
              force: args.force,
              progress: io.progress === undefined ? io.stderr : io.progress,
              ...(signal ? { signal } : {}),
            });
            if (result.alreadyInstalled) {
              out(`${name}: already installed at ${result.dir} (use --force to replace it, \`models verify ${name}\` to check it)`);
            } else {
              out(`${name}: installed at ${result.dir} (${formatBytes(result.archiveBytes ?? 0)} archive, sha256 ${result.sha256 ?? '?'}, ${result.files ?? 0} files)`);
            }
          } catch (e) {
            failed++;
            err(`speech-gateway models: ${e instanceof GatewayError ? e.message : `${name}: ${errorMessage(e)}; ${manualInstallHint(name, source.url, cacheDir)}`}`);
          }
        }
      } finally {
        if (interrupt) process.removeListener('SIGINT', onSigint);
      }
      if (signal?.aborted) return 130;
      return failed === 0 ? 0 : 1;
    }
    case 'verify': {
      if (args.names.length === 0) return usage('verify needs at least one model name (see `models list`)');
      const bad = args.names.find((n) => !isModelName(n));
      if (bad !== undefined) return usage(`'${bad}' is not a Vosk model name (vosk-model-...; see \`models list\`)`);
      let failed = 0;
      for (const name of args.names) {
        const result = await verifyModel(name, cacheDir, findModel(name, baseUrl));
        for (const note of result.notes) err(`${name}: note: ${note}`);
        if (result.ok) {
          out(`${name}: ok (${result.dir}${result.manifest ? `, archive sha256 ${result.manifest.sha256}` : ''})`);
        } else {
          failed++;
          const fix = result.installed ? `reinstall with \`speech-gateway models download --force ${name}\`` : `install it with \`speech-gateway models download ${name}\``;
          err(`${name}: FAILED: ${result.problems.join('; ')}; ${fix}`);
        }
      }
      return failed === 0 ? 0 : 1;
    }
    case '':
      return usage('missing command');
    default:
      return usage(`unknown command '${args.command}'`);
  }
}

/** Model directories in the cache (temp dirs and files skipped). */
function installedNames(cacheDir: string): string[] {
  try {
    return readdirSync(cacheDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isModelName(d.name))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}
