import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { GatewayError } from '../../../src/errors.js';
import { MANIFEST_FILE, checkModelLayout, findModel, resolveModelPath } from '../../../src/asr/models/catalog.js';
import { downloadModel, readManifest, safeEntryPath } from '../../../src/asr/models/download.js';
import { runModelsCommand } from '../../../src/asr/models/cli.js';

// ---------------------------------------------------------------------------------------------
// A minimal zip writer (stored and deflated entries), enough for test archives.

interface ZipInput {
  readonly name: string;
  readonly data?: string | Buffer;
  /** Unix mode for the external attributes, e.g. 0o120777 for a symlink. */
  readonly mode?: number;
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function buildZip(entries: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  entries.forEach((entry, i) => {
    const name = Buffer.from(entry.name, 'utf8');
    const raw = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '', 'utf8');
    const isDir = entry.name.endsWith('/');
    const method = isDir || i % 2 === 0 ? 0 : 8; // mix stored and deflated
    const body = method === 8 ? zlib.deflateRawSync(raw) : raw;
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? (isDir ? 0o40755 : 0o100644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  });
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A fake small Vosk model (layout only; Vosk itself is never loaded here). */
function modelEntries(top: string): ZipInput[] {
  return [
    { name: `${top}/` },
    { name: `${top}/README`, data: 'fake model for tests\n' },
    { name: `${top}/am/final.mdl`, data: Buffer.alloc(4096, 7) },
    { name: `${top}/conf/mfcc.conf`, data: '--sample-frequency=16000\n--use-energy=false\n' },
    { name: `${top}/conf/model.conf`, data: '--min-active=200\n--beam=10.0\n' },
    { name: `${top}/graph/Gr.fst`, data: 'G'.repeat(3000) },
    { name: `${top}/graph/HCLr.fst`, data: 'H'.repeat(5000) },
    { name: `${top}/graph/phones/word_boundary.int`, data: '1 nonword\n' },
    { name: `${top}/ivector/final.ie`, data: Buffer.alloc(1000, 3) },
  ];
}

const EN = 'vosk-model-small-en-us-0.15';
const GOOD_ZIP = buildZip(modelEntries(EN));
const NOT_A_MODEL_ZIP = buildZip([{ name: `${EN}/README`, data: 'no model here' }]);
const SLIP_ZIP = buildZip([...modelEntries(EN), { name: '../evil.txt', data: 'pwned' }]);
const SLIP_ABS_ZIP = buildZip([...modelEntries(EN), { name: '/tmp/evil-abs.txt', data: 'pwned' }]);
const SYMLINK_ZIP = buildZip([...modelEntries(EN), { name: `${EN}/link`, data: '/etc/passwd', mode: 0o120777 }]);

// ---------------------------------------------------------------------------------------------
// Local server: /<prefix>/<name>.zip; the prefix picks the behaviour.

type Route = (res: http.ServerResponse) => void;
const routes = new Map<string, Route>();
const serveZip = (zip: Buffer): Route => (res) => {
  res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
  res.end(zip);
};
let server: http.Server;
let base: string;
let scratch: string;

before(async () => {
  routes.set(`/good/${EN}.zip`, serveZip(GOOD_ZIP));
  routes.set(`/notmodel/${EN}.zip`, serveZip(NOT_A_MODEL_ZIP));
  routes.set(`/slip/${EN}.zip`, serveZip(SLIP_ZIP));
  routes.set(`/slipabs/${EN}.zip`, serveZip(SLIP_ABS_ZIP));
  routes.set(`/symlink/${EN}.zip`, serveZip(SYMLINK_ZIP));
  routes.set(`/redirect/${EN}.zip`, (res) => {
    res.writeHead(302, { location: `/good/${EN}.zip` });
    res.end();
  });
  routes.set(`/cut/${EN}.zip`, (res) => {
    // Announce the whole archive, send half, then drop the connection.
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': GOOD_ZIP.length });
    res.write(GOOD_ZIP.subarray(0, Math.floor(GOOD_ZIP.length / 2)), () => {
      setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  server = http.createServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (route) route(res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  scratch = await mkdtemp(path.join(os.tmpdir(), 'sgw-models-test-'));
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(scratch, { recursive: true, force: true });
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; progress: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const progress = new Capture();
  const code = await runModelsCommand(argv, { stdout, stderr, env: {}, progress });
  return { code, stdout: stdout.text, stderr: stderr.text, progress: progress.text };
}

let cacheCounter = 0;
function freshCache(): string {
  return path.join(scratch, `cache-${++cacheCounter}`);
}

/** The cache holds nothing but the listed entries (no temp dirs, no partial installs). */
async function assertCacheHolds(cache: string, expected: string[]): Promise<void> {
  const entries = existsSync(cache) ? await readdir(cache) : [];
  assert.deepEqual(entries.sort(), [...expected].sort());
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------

test('download installs the model, writes a manifest; verify and list see it; VOSK_MODEL may name it', async () => {
  const cache = freshCache();
  const result = await run(['download', EN, '--cache', cache, '--base-url', `${base}/good`]);
  assert.equal(result.code, 0, result.stderr);
  const dir = path.join(cache, EN);
  assert.match(result.stdout, new RegExp(`${EN}: installed at ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  for (const f of ['am/final.mdl', 'conf/model.conf', 'conf/mfcc.conf', 'graph/Gr.fst', 'graph/HCLr.fst', 'ivector/final.ie']) {
    assert.ok(existsSync(path.join(dir, f)), `${f} installed`);
  }
  assert.equal((await readFile(path.join(dir, 'graph/HCLr.fst'), 'utf8')).length, 5000);
  assert.ok(checkModelLayout(dir).ok);
  const manifest = await readManifest(dir);
  assert.ok(manifest !== undefined && manifest !== 'invalid');
  assert.equal(manifest.sha256, sha256(GOOD_ZIP));
  assert.equal(manifest.archiveBytes, GOOD_ZIP.length);
  assert.equal(manifest.url, `${base}/good/${EN}.zip`);
  assert.ok(manifest.files.some((f) => f.path === 'am/final.mdl' && f.size === 4096));
  await assertCacheHolds(cache, [EN]);
  // Non-TTY progress: plain percentage lines ending at 100 %.
  assert.match(result.progress, /100% \(/);
  assert.doesNotMatch(result.progress, /\r/);

  const verify = await run(['verify', EN, '--cache', cache]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, new RegExp(`${EN}: ok .*${sha256(GOOD_ZIP)}`));

  const list = await run(['list', '--cache', cache]);
  assert.equal(list.code, 0);
  assert.match(list.stdout, new RegExp(`^${EN}\\s+en-US\\s+yes\\s+${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(list.stdout, /^vosk-model-small-nl-0\.22\s+nl-NL\s+no\s+/m);

  // A second download is a no-op.
  const again = await run(['download', EN, '--cache', cache, '--base-url', `${base}/good`]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already installed/);

  // VOSK_MODEL as a name resolves to the cache; a path stays a path; an uninstalled name says how.
  assert.equal(resolveModelPath(EN, cache), dir);
  assert.equal(resolveModelPath('./models/x', cache), path.resolve('models/x'));
  assert.equal(resolveModelPath('/opt/models/vosk-model-small-en-us-0.15', cache), '/opt/models/vosk-model-small-en-us-0.15');
  assert.throws(
    () => resolveModelPath('vosk-model-small-nl-0.22', cache),
    (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE' && /models download vosk-model-small-nl-0\.22/.test(err.message) && /VOSK_MODEL=/.test(err.message),
  );

  // verify catches a damaged install.
  await writeFile(path.join(dir, 'graph/HCLr.fst'), 'truncated');
  const broken = await run(['verify', EN, '--cache', cache]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /graph\/HCLr\.fst is 9 bytes, installed as 5000/);
  await rm(path.join(dir, 'am/final.mdl'));
  const broken2 = await run(['verify', EN, '--cache', cache]);
  assert.equal(broken2.code, 1);
  assert.match(broken2.stderr, /missing am\/final\.mdl/);
});

test('redirects are followed', async () => {
  const cache = freshCache();
  const result = await run(['download', EN, '--cache', cache, '--base-url', `${base}/redirect`]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(checkModelLayout(path.join(cache, EN)).ok);
});

test('on a TTY, progress is a redrawn bar', async () => {
  const cache = freshCache();
  const tty = Object.assign(new Capture(), { isTTY: true });
  await downloadModel({ name: EN, url: `${base}/good/${EN}.zip` }, { cacheDir: cache, progress: tty });
  assert.match(tty.text, /^\r/);
  assert.match(tty.text, /\[#{30}\] 100% /);
  assert.ok(tty.text.endsWith('\n'));
});

test('checksum mismatch: nothing installed, temp cleaned, clear error', async () => {
  const cache = freshCache();
  const url = `${base}/good/${EN}.zip`;
  await assert.rejects(
    downloadModel({ name: EN, url, language: 'en-US', sha256: 'ab'.repeat(32) }, { cacheDir: cache, progress: null }),
    (err: unknown) =>
      err instanceof GatewayError &&
      err.code === 'SGW_ASR_UNAVAILABLE' &&
      err.message.includes(`checksum mismatch for ${url}`) &&
      err.message.includes(sha256(GOOD_ZIP)) &&
      err.message.includes('Nothing installed'),
  );
  await assertCacheHolds(cache, []);
  // The right checksum and size install.
  const ok = await downloadModel({ name: EN, url, sha256: sha256(GOOD_ZIP), sizeBytes: GOOD_ZIP.length }, { cacheDir: cache, progress: null });
  assert.equal(ok.alreadyInstalled, false);
  await assertCacheHolds(cache, [EN]);
  // verify compares the manifest against the catalog's sha256.
  const verify = await run(['verify', EN, '--cache', cache]);
  assert.equal(verify.code, 0);
  assert.equal(findModel(EN)?.sha256, undefined, 'catalog leaves unknown checksums undefined');
});

test('catalog size differing from Content-Length is refused before downloading', async () => {
  const cache = freshCache();
  await assert.rejects(
    downloadModel({ name: EN, url: `${base}/good/${EN}.zip`, sizeBytes: GOOD_ZIP.length + 1 }, { cacheDir: cache, progress: null }),
    (err: unknown) => err instanceof GatewayError && /catalog expects/.test(err.message),
  );
  await assertCacheHolds(cache, []);
});

test('interrupted download (connection closed early) is reported; nothing installed', async () => {
  const cache = freshCache();
  const result = await run(['download', EN, '--cache', cache, '--base-url', `${base}/cut`]);
  assert.equal(result.code, 1);
  const url = `${base}/cut/${EN}.zip`;
  assert.ok(result.stderr.includes(`download of ${url} interrupted: received ${Math.floor(GOOD_ZIP.length / 2)} of ${GOOD_ZIP.length} bytes`), result.stderr);
  assert.match(result.stderr, /unzip it into/);
  await assertCacheHolds(cache, []);
});

test('HTTP 404 names the URL', async () => {
  const cache = freshCache();
  const result = await run(['download', 'vosk-model-does-not-exist-0.1', '--cache', cache, '--base-url', `${base}/good`]);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`HTTP 404 Not Found from ${base}/good/vosk-model-does-not-exist-0.1.zip`), result.stderr);
  assert.match(result.stderr, /not in the catalog/);
  await assertCacheHolds(cache, []);
});

test('connection refused: offline message names the URL and the manual alternative', async () => {
  const cache = freshCache();
  // A port that was free a moment ago: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const result = await run(['download', EN, '--cache', cache, '--base-url', `http://127.0.0.1:${port}/models`]);
  assert.equal(result.code, 1);
  const url = `http://127.0.0.1:${port}/models/${EN}.zip`;
  assert.ok(result.stderr.includes(`cannot download ${url}: connection refused (ECONNREFUSED)`), result.stderr);
  assert.ok(result.stderr.includes(`download ${url}, unzip it into ${path.join(cache, EN)}, or set VOSK_MODEL=`), result.stderr);
  await assertCacheHolds(cache, []);
});

test('zip-slip entries (.. and absolute paths) and symlinks are refused', async () => {
  for (const [prefix, pattern] of [
    ['slip', /zip-slip/],
    ['slipabs', /zip-slip/],
    ['symlink', /symbolic link/],
  ] as const) {
    const cache = freshCache();
    const result = await run(['download', EN, '--cache', cache, '--base-url', `${base}/${prefix}`]);
    assert.equal(result.code, 1, prefix);
    assert.match(result.stderr, pattern);
    assert.match(result.stderr, /refusing the archive from http:\/\/127\.0\.0\.1:\d+\//);
    await assertCacheHolds(cache, []);
    assert.ok(!existsSync(path.join(path.dirname(cache), 'evil.txt')));
    assert.ok(!existsSync(path.join(cache, '..', 'evil.txt')));
  }
  assert.ok(!existsSync('/tmp/evil-abs.txt'));
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\x', 'a\0b', '..']) {
    assert.throws(() => safeEntryPath(bad), /unsafe entry name/, bad);
  }
  assert.equal(safeEntryPath('./a//b/'), 'a/b');
});

test('an archive that is not a Vosk model is refused', async () => {
  const cache = freshCache();
  const result = await run(['download', EN, '--cache', cache, '--base-url', `${base}/notmodel`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /is not a Vosk model \(missing am\/final\.mdl/);
  await assertCacheHolds(cache, []);
});

test('a failed --force reinstall leaves the existing install untouched', async () => {
  const cache = freshCache();
  assert.equal((await run(['download', EN, '--cache', cache, '--base-url', `${base}/good`])).code, 0);
  const dir = path.join(cache, EN);
  const manifestBefore = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  for (const prefix of ['cut', 'notmodel', 'slip', 'nowhere']) {
    const result = await run(['download', EN, '--force', '--cache', cache, '--base-url', `${base}/${prefix}`]);
    assert.equal(result.code, 1, prefix);
    await assertCacheHolds(cache, [EN]);
    assert.equal(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'), manifestBefore, prefix);
    assert.equal((await run(['verify', EN, '--cache', cache])).code, 0, prefix);
  }
  // A good --force reinstall replaces it.
  const ok = await run(['download', EN, '--force', '--cache', cache, '--base-url', `${base}/redirect`]);
  assert.equal(ok.code, 0, ok.stderr);
  await assertCacheHolds(cache, [EN]);
  assert.notEqual(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'), manifestBefore);
});

test('archives over the size limit are refused', async () => {
  const cache = freshCache();
  await assert.rejects(
    downloadModel({ name: EN, url: `${base}/good/${EN}.zip` }, { cacheDir: cache, progress: null, maxArchiveBytes: 1000 }),
    (err: unknown) => err instanceof GatewayError && /over the 1000 B limit/.test(err.message),
  );
  await assertCacheHolds(cache, []);
});

test('usage errors exit 2; verify of a missing model exits 1', async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['frobnicate'])).code, 2);
  assert.equal((await run(['download'])).code, 2);
  assert.equal((await run(['download', '../etc'])).code, 2);
  assert.equal((await run(['list', '--cache'])).code, 2);
  assert.equal((await run(['list', '--bogus'])).code, 2);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: speech-gateway models/);
  const cache = freshCache();
  const missing = await run(['verify', EN, '--cache', cache]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not installed.*install it with `speech-gateway models download vosk-model-small-en-us-0\.15`/);
});
