import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import { GatewayError } from '../errors.js';

/** The pages' folder: plain HTML, CSS and JavaScript served as they are (no bundler, no CDN). */
export const WEB_ROOT = path.join(PACKAGE_ROOT, 'src', 'web');

/** URL path → file under the web root. Nothing else is served. */
const ROUTES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/agent': 'agent.html',
  '/supervisor': 'supervisor.html',
  '/assets/app.css': 'app.css',
  '/assets/common.js': 'common.js',
  '/assets/agent.js': 'agent.js',
  '/assets/supervisor.js': 'supervisor.js',
  '/insights': 'insights.html',
  '/assets/insights.js': 'insights.js',
  '/favicon.ico': 'favicon.svg',
};

/**
 * Libraries the pages load, served from node_modules (no CDN): each file named
 * here and nothing else of node_modules. Chart.js's UMD build has no imports
 * and injects no style, so it runs under the CSP below.
 */
const VENDOR: Readonly<Record<string, string>> = {
  '/assets/vendor/chart.umd.min.js': path.join(PACKAGE_ROOT, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js'),
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Pages load only from this origin, run no inline script or style, and may
 * not be framed; `connect-src 'self'` covers fetch and the same-origin
 * WebSocket (ws:/wss:).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** The pages, read once at start (a few KB, and the chart library's 200 KB). */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(root = WEB_ROOT) {
    const files = [...Object.entries(ROUTES).map(([route, file]) => [route, path.join(root, file)] as const), ...Object.entries(VENDOR)];
    for (const [route, file] of files) {
      const body = read(file);
      this.files.set(route, {
        body,
        contentType: TYPES[path.extname(file)] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
  }

  get(pathname: string): StaticFile | undefined {
    return this.files.get(pathname);
  }
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    // A library file missing from node_modules means the dependencies are not installed as package-lock.json says.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && file.includes(`${path.sep}node_modules${path.sep}`)) {
      throw new GatewayError('SGW_CONFIG', `${file} is missing: install the dependencies (npm ci) to serve the pages`, { cause: err });
    }
    throw err;
  }
}
