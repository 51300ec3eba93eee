/**
 * Downloading, verifying and installing Vosk model archives into the model cache.
 *
 * Install is atomic: everything happens in `<cache>/.tmp-<random>/` (download, size and
 * checksum checks, extraction, layout check, manifest), and only a complete, checked model
 * directory is renamed to `<cache>/<name>`. Any failure removes the temp directory and leaves
 * an existing install untouched. Bounded: archives over `maxArchiveBytes` (4 GiB) are refused
 * before and while downloading, extraction is capped in entries and bytes, and entries with
 * absolute paths, `..`, or symlinks are refused (zip-slip).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { GatewayError, errorMessage } from '../../errors.js';
import type { Language } from '../../language.js';
import { MANIFEST_FILE, checkModelLayout, manualInstallHint, type CatalogEntry } from './catalog.js';

const GiB = 1024 ** 3;
export const MAX_ARCHIVE_BYTES = 4 * GiB;
export const MAX_EXTRACTED_BYTES = 16 * GiB;
export const MAX_ZIP_ENTRIES = 100_000;
const MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Leftover temp dirs (a killed download) older than this are removed by the next download. */
const STALE_TEMP_MS = 24 * 3600 * 1000;

/** What a download needs to know about a model: a catalog entry, or name + URL for an unlisted one. */
export type ModelSource = Pick<CatalogEntry, 'name' | 'url'> & Partial<Pick<CatalogEntry, 'language' | 'sizeBytes' | 'sha256'>>;

export interface DownloadOptions {
  readonly cacheDir: string;
  /** Replace an existing install (atomically; the old one stays if the new one fails). */
  readonly force?: boolean;
  /** Progress output; default process.stderr; null for none. */
  readonly progress?: NodeJS.WritableStream | null;
  readonly maxArchiveBytes?: number;
  /** Connect / idle timeout of the HTTP transfer. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface InstallResult {
  readonly name: string;
  readonly dir: string;
  /** True when the model was already installed and nothing was downloaded. */
  readonly alreadyInstalled: boolean;
  readonly archiveBytes?: number;
  readonly sha256?: string;
  readonly files?: number;
}

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
}

/** `<cache>/<name>/.speech-gateway-model.json`, written at install time. */
export interface ModelManifest {
  readonly name: string;
  readonly language?: Language | undefined;
  readonly url: string;
  readonly archiveBytes: number;
  readonly sha256: string;
  readonly installedAt: string;
  readonly files: ManifestFile[];
}

function fail(message: string, cause?: unknown): GatewayError {
  return new GatewayError('SGW_ASR_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

/**
 * Downloads `source.url`, verifies and installs it as `<cacheDir>/<name>`.
 * @throws GatewayError SGW_ASR_UNAVAILABLE naming the URL and the manual alternative.
 */
export async function downloadModel(source: ModelSource, options: DownloadOptions): Promise<InstallResult> {
  const { cacheDir } = options;
  const target = path.join(cacheDir, source.name);
  const hint = manualInstallHint(source.name, source.url, cacheDir);
  if (!options.force && (await isDir(target))) return { name: source.name, dir: target, alreadyInstalled: true };

  try {
    await mkdir(cacheDir, { recursive: true });
  } catch (err) {
    throw fail(`cannot create the model cache ${cacheDir}: ${errorMessage(err)}; use --cache DIR or VOSK_MODELS_DIR`, err);
  }
  await removeStaleTemps(cacheDir);
  const tmp = await mkdtemp(path.join(cacheDir, '.tmp-'));
  try {
    const archive = path.join(tmp, 'archive.zip');
    const fetched = await fetchToFile(source, archive, options, hint);
    const extractDir = path.join(tmp, 'extract');
    await mkdir(extractDir);
    const files = await extractZip(archive, extractDir, source.url, hint);
    const root = await modelRoot(extractDir);
    const layout = checkModelLayout(root);
    if (!layout.ok) {
      throw fail(`the archive from ${source.url} is not a Vosk model (${layout.problems.join(', ')}); nothing installed. Check the model name, or ${hint}`);
    }
    const prefix = path.relative(extractDir, root);
    const manifest: ModelManifest = {
      name: source.name,
      language: source.language,
      url: source.url,
      archiveBytes: fetched.bytes,
      sha256: fetched.sha256,
      installedAt: new Date().toISOString(),
      files: files
        .filter((f) => prefix === '' || f.path.startsWith(`${prefix}/`))
        .map((f) => ({ path: prefix === '' ? f.path : f.path.slice(prefix.length + 1), size: f.size })),
    };
    await writeFile(path.join(root, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(archive, { force: true });
    await swapInto(root, target, path.join(tmp, 'previous'));
    return { name: source.name, dir: target, alreadyInstalled: false, archiveBytes: fetched.bytes, sha256: fetched.sha256, files: manifest.files.length };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Renames `from` to `target`; an existing target is moved aside first and restored if that fails. */
async function swapInto(from: string, target: string, aside: string): Promise<void> {
  const hadPrevious = await isDir(target);
  if (hadPrevious) await rename(target, aside);
  try {
    await rename(from, target);
  } catch (err) {
    if (hadPrevious) await rename(aside, target);
    throw fail(`cannot move the model into ${target}: ${errorMessage(err)}`, err);
  }
}

async function removeStaleTemps(cacheDir: string): Promise<void> {
  try {
    const now = Date.now();
    for (const name of await readdir(cacheDir)) {
      if (!name.startsWith('.tmp-')) continue;
      const p = path.join(cacheDir, name);
      const st = await stat(p);
      if (now - st.mtimeMs > STALE_TEMP_MS) await rm(p, { recursive: true, force: true });
    }
  } catch {
    // Best effort.
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed (offline?)',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable (offline?)',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
};

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function networkFailure(url: string, err: unknown, hint: string): GatewayError {
  const code = errnoCode(err);
  const what = (code !== undefined ? NETWORK_ERRORS[code] : undefined) ?? errorMessage(err);
  return fail(`cannot download ${url}: ${what}${code !== undefined ? ` (${code})` : ''}; no network or proxy? To install by hand: ${hint}`, err);
}

function get(url: URL, timeoutMs: number, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, { headers: { 'user-agent': 'speech-gateway', 'accept-encoding': 'identity' }, ...(signal ? { signal } : {}) }, resolve);
    req.setTimeout(timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', reject);
  });
}

/** Follows redirects; resolves with a 2xx response. */
async function open(source: ModelSource, timeoutMs: number, signal: AbortSignal | undefined, hint: string): Promise<{ res: IncomingMessage; url: string }> {
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new GatewayError('SGW_CONFIG', `invalid model URL '${source.url}' (check --base-url / VOSK_MODELS_BASE_URL)`);
  }
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatewayError('SGW_CONFIG', `unsupported URL scheme in ${url.href}`);
    let res: IncomingMessage;
    try {
      res = await get(url, timeoutMs, signal);
    } catch (err) {
      if (signal?.aborted) throw fail(`download of ${url.href} cancelled; nothing installed`, err);
      throw networkFailure(url.href, err, hint);
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw fail(`too many redirects downloading ${source.url}; ${hint}`);
      url = new URL(location, url);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      const why = status === 404 ? ' (no such model on the server? check the name with `models list`)' : '';
      throw fail(`HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd() + ` from ${url.href}${why}; to install by hand: ${hint}`);
    }
    return { res, url: url.href };
  }
}

async function fetchToFile(source: ModelSource, dest: string, options: DownloadOptions, hint: string): Promise<{ bytes: number; sha256: string }> {
  const maxBytes = options.maxArchiveBytes ?? MAX_ARCHIVE_BYTES;
  const { res, url } = await open(source, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal, hint);
  const header = res.headers['content-length'];
  const contentLength = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
  const expected = contentLength ?? source.sizeBytes;
  if (expected !== undefined && expected > maxBytes) {
    res.destroy();
    throw fail(`${url} is ${formatBytes(expected)}, over the ${formatBytes(maxBytes)} limit; refusing to download it`);
  }
  if (contentLength !== undefined && source.sizeBytes !== undefined && contentLength !== source.sizeBytes) {
    res.destroy();
    throw fail(`${url} is ${contentLength} bytes but the catalog expects ${source.sizeBytes}; the server has a different archive. Nothing installed; to install by hand: ${hint}`);
  }

  const progress = new Progress(options.progress === undefined ? process.stderr : options.progress, source.name, expected);
  const hash = createHash('sha256');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > maxBytes || (expected !== undefined && received > expected)) {
        callback(fail(`${url} sent more than ${expected !== undefined && expected <= maxBytes ? `the announced ${expected} bytes` : `the ${formatBytes(maxBytes)} limit`}; refusing it`));
        return;
      }
      hash.update(chunk);
      progress.update(received);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(res, meter, createWriteStream(dest, { flags: 'wx' }), ...(options.signal ? [{ signal: options.signal }] : []));
  } catch (err) {
    progress.end(false);
    if (err instanceof GatewayError) throw err;
    if (options.signal?.aborted) throw fail(`download of ${url} cancelled; nothing installed`, err);
    if (expected !== undefined && received < expected) {
      throw fail(`download of ${url} interrupted: received ${received} of ${expected} bytes (connection closed early); nothing installed. Retry, or to install by hand: ${hint}`, err);
    }
    if (errnoCode(err) === 'ENOSPC') throw fail(`no space left on the device of ${path.dirname(dest)} for ${url}`, err);
    throw networkFailure(url, err, hint);
  }
  progress.end(true);
  if (expected !== undefined && received !== expected) {
    throw fail(`download of ${url} incomplete: received ${received} of ${expected} bytes; nothing installed. Retry, or to install by hand: ${hint}`);
  }
  const sha256 = hash.digest('hex');
  if (source.sha256 !== undefined && source.sha256.toLowerCase() !== sha256) {
    throw fail(`checksum mismatch for ${url}: sha256 ${sha256}, expected ${source.sha256.toLowerCase()}; the archive is corrupt or was replaced. Nothing installed; to install by hand: ${hint}`);
  }
  return { bytes: received, sha256 };
}

// ---------------------------------------------------------------------------------------------
// Progress

/** A progress bar on a TTY, else a plain line every 10 % (every 50 MiB when the size is unknown). */
class Progress {
  private readonly tty: boolean;
  private lastDraw = 0;
  private nextMark = 10;
  private nextBytesMark = 50 * 1024 * 1024;
  private bytes = 0;

  constructor(
    private readonly out: NodeJS.WritableStream | null,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {
    this.tty = out !== null && (out as { isTTY?: boolean }).isTTY === true;
  }

  update(bytes: number): void {
    this.bytes = bytes;
    if (this.out === null) return;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line()}\x1b[K`);
      return;
    }
    if (this.total !== undefined && this.total > 0) {
      const pct = Math.floor((bytes * 100) / this.total);
      if (pct < this.nextMark) return;
      this.nextMark = Math.floor(pct / 10) * 10 + 10;
      this.out.write(`${this.label}: ${pct}% (${formatBytes(bytes)} of ${formatBytes(this.total)})\n`);
    } else if (bytes >= this.nextBytesMark) {
      this.nextBytesMark += 50 * 1024 * 1024;
      this.out.write(`${this.label}: ${formatBytes(bytes)}\n`);
    }
  }

  end(ok: boolean): void {
    if (this.out === null || !this.tty) return;
    this.out.write(`\r${this.line()}${ok ? '' : ' failed'}\x1b[K\n`);
  }

  private line(): string {
    if (this.total === undefined || this.total <= 0) return `${this.label} ${formatBytes(this.bytes)}`;
    const fraction = Math.min(1, this.bytes / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(this.bytes)} of ${formatBytes(this.total)}`;
  }
}

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

// ---------------------------------------------------------------------------------------------
// Zip extraction

/**
 * Checks a zip entry name and returns it normalised (forward slashes, no trailing slash).
 * Refuses absolute paths, drive letters, `..` segments, NUL and backslashes (zip-slip).
 */
export function safeEntryPath(name: string): string {
  if (name === '' || name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[a-zA-Z]:/.test(name)) {
    throw new Error(`unsafe entry name '${name}'`);
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new Error(`unsafe entry name '${name}' (.. segment)`);
  if (segments.length === 0) throw new Error(`unsafe entry name '${name}'`);
  return segments.join('/');
}

const YAUZL_UNSAFE = /^(absolute path|invalid relative path|invalid characters in fileName)/;

async function extractZip(archive: string, destDir: string, url: string, hint: string): Promise<ManifestFile[]> {
  const refuse = (why: string, cause?: unknown): GatewayError =>
    fail(`refusing the archive from ${url}: ${why}; nothing installed. To install by hand: ${hint}`, cause);
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(archive, { lazyEntries: true, validateEntrySizes: true });
  } catch (err) {
    throw refuse(`not a valid zip archive (${errorMessage(err)})`, err);
  }
  const root = path.resolve(destDir);
  const files: ManifestFile[] = [];
  let entries = 0;
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (++entries > MAX_ZIP_ENTRIES) throw refuse(`more than ${MAX_ZIP_ENTRIES} entries`);
      let rel: string;
      try {
        rel = safeEntryPath(entry.fileName);
      } catch (err) {
        throw refuse(`${errorMessage(err)} (zip-slip)`);
      }
      const target = path.resolve(root, rel);
      if (!target.startsWith(root + path.sep)) throw refuse(`entry '${entry.fileName}' escapes the target directory (zip-slip)`);
      const fileType = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (fileType === 0o120000) throw refuse(`entry '${entry.fileName}' is a symbolic link`);
      if (entry.isEncrypted()) throw refuse(`entry '${entry.fileName}' is encrypted`);
      if (entry.fileName.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      total += entry.uncompressedSize;
      if (total > MAX_EXTRACTED_BYTES) throw refuse(`it expands to more than ${formatBytes(MAX_EXTRACTED_BYTES)}`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeEntry(zip, entry, target);
      files.push({ path: rel, size: entry.uncompressedSize });
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const message = errorMessage(err);
    if (YAUZL_UNSAFE.test(message)) throw refuse(`unsafe entry: ${message} (zip-slip)`, err);
    throw refuse(`corrupt zip archive (${message})`, err);
  } finally {
    zip.close();
  }
  return files;
}

async function writeEntry(zip: ZipFile, entry: Entry, target: string): Promise<void> {
  const stream: Readable = await zip.openReadStreamPromise(entry);
  // zlib.crc32 exists from Node 20.15; without it the sizes (yauzl) and archive checks still apply.
  const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  let crc = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (crc32) crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      if (crc32 && crc >>> 0 !== entry.crc32 >>> 0) callback(new Error(`CRC mismatch in '${entry.fileName}'`));
      else callback();
    },
  });
  await pipeline(stream, check, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
}

/** The model directory inside an extraction: the root itself, or its single top-level folder. */
async function modelRoot(extractDir: string): Promise<string> {
  if (checkModelLayout(extractDir).ok) return extractDir;
  const top = (await readdir(extractDir, { withFileTypes: true })).filter((d) => d.name !== '__MACOSX');
  const only = top[0];
  if (top.length === 1 && only !== undefined && only.isDirectory()) return path.join(extractDir, only.name);
  return extractDir;
}

// ---------------------------------------------------------------------------------------------
// Verify

export interface VerifyResult {
  readonly name: string;
  readonly dir: string;
  readonly ok: boolean;
  /** The model directory exists. */
  readonly installed: boolean;
  readonly problems: string[];
  /** Informational, not failures (e.g. no manifest: installed by hand). */
  readonly notes: string[];
  readonly manifest?: ModelManifest;
}

/**
 * Re-checks `<cacheDir>/<name>` (or an explicit directory): the Vosk layout, and when the
 * install manifest is there, that every file it lists still has its size and that the archive
 * sha256 matches the catalog's (when the catalog knows it).
 */
export async function verifyModel(name: string, cacheDir: string, expected?: Pick<CatalogEntry, 'sha256'>, dir: string = path.join(cacheDir, name)): Promise<VerifyResult> {
  const problems: string[] = [];
  const notes: string[] = [];
  if (!(await isDir(dir))) return { name, dir, ok: false, installed: false, problems: [`not installed (${dir} does not exist)`], notes };
  problems.push(...checkModelLayout(dir).problems);
  const manifest = await readManifest(dir);
  if (manifest === undefined) {
    notes.push(`no ${MANIFEST_FILE} (installed by hand?): layout checked only`);
  } else if (manifest === 'invalid') {
    problems.push(`${MANIFEST_FILE} is unreadable or malformed`);
  } else {
    if (manifest.name !== name) notes.push(`manifest names ${manifest.name}`);
    if (expected?.sha256 !== undefined && expected.sha256.toLowerCase() !== manifest.sha256) {
      problems.push(`installed from an archive with sha256 ${manifest.sha256}, catalog expects ${expected.sha256.toLowerCase()}`);
    }
    for (const file of manifest.files) {
      let rel: string;
      try {
        rel = safeEntryPath(file.path);
      } catch {
        problems.push(`manifest lists an unsafe path '${file.path}'`);
        continue;
      }
      try {
        const st = await stat(path.join(dir, rel));
        if (st.size !== file.size) problems.push(`${rel} is ${st.size} bytes, installed as ${file.size}`);
      } catch {
        problems.push(`${rel} is missing`);
      }
    }
  }
  return { name, dir, ok: problems.length === 0, installed: true, problems, notes, ...(manifest !== undefined && manifest !== 'invalid' ? { manifest } : {}) };
}

export async function readManifest(dir: string): Promise<ModelManifest | 'invalid' | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? undefined : 'invalid';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'invalid';
  const m = parsed as Record<string, unknown>;
  const files = m['files'];
  if (
    typeof m['name'] !== 'string' ||
    typeof m['url'] !== 'string' ||
    typeof m['archiveBytes'] !== 'number' ||
    typeof m['sha256'] !== 'string' ||
    typeof m['installedAt'] !== 'string' ||
    !Array.isArray(files) ||
    !(files as unknown[]).every((f) => typeof f === 'object' && f !== null && typeof (f as Record<string, unknown>)['path'] === 'string' && typeof (f as Record<string, unknown>)['size'] === 'number')
  ) {
    return 'invalid';
  }
  return parsed as ModelManifest;
}

