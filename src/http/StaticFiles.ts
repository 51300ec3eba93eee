import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';

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
  '/favicon.ico': 'favicon.svg',
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

/** The pages, read once at start (a few KB). */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(root = WEB_ROOT) {
    for (const [route, file] of Object.entries(ROUTES)) {
      const body = readFileSync(path.join(root, file));
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
