/**
 * Serves the built renderer (the web client) at `/`, so a colleague without the desktop app can
 * open http://HOST:PORT/ and chat. Only files inside the folder are ever served: paths are
 * decoded once, normalised, and must stay under the root (no `..`, no encoded tricks, no
 * symlinks out); dotfiles and dot-folders are never served. Unknown paths without an extension get index.html (client-side routes).
 * Nothing under /api/ is ever served: that namespace is the API's (a JSON 404 when no route matches).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { isApiPath, requestUrl } from './http-util.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The web client's Content-Security-Policy: scripts and styles only from this origin, sockets
 * and API calls only to this relay (`'self'`, which CSP Level 3 extends to the same host's ws:
 * and wss:), no plugins, no framing. The page this relay serves talks to this relay; other
 * relays are reached from their own pages or the desktop app (whose policy lists the relays the
 * user chose, electron/main/csp.ts). Before: any ws:, wss:, http: or https: host, so script
 * that got into the page could send what it read anywhere.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export function createStaticHandler(
  rootDir: string,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const root = resolve(rootDir);
  let realRoot: string | null = null;

  async function inside(path: string): Promise<string | null> {
    realRoot ??= await realpath(root);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return null;
    }
    return real === realRoot || real.startsWith(realRoot + sep) ? real : null;
  }

  return async function serve(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = requestUrl(req);
    if (url === null) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return false;
    const segments = decoded.split('/').filter((part) => part.length > 0);
    // `.`, `..`, and dotfiles or dot-folders (.git, .env, .DS_Store): never part of a build.
    if (segments.some((part) => part.startsWith('.'))) return false;
    if (isApiPath(`/${segments.join('/')}`)) return false;
    const wanted = resolve(root, ...segments);
    let file = await inside(wanted);
    if (file !== null && (await stat(file)).isDirectory())
      file = await inside(resolve(wanted, 'index.html'));
    if (file === null && extname(decoded) === '') file = await inside(resolve(root, 'index.html'));
    if (file === null) return false;
    const info = await stat(file);
    if (!info.isFile()) return false;
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const hashed = /[-.][A-Za-z0-9_-]{8,}\.(js|css)$/.test(file);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': info.size,
      'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // On every file, not only HTML: an SVG (or any file a browser renders as a document)
      // opened directly must not run script or be framed either.
      'Content-Security-Policy': WEB_CSP,
      'X-Frame-Options': 'DENY',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    createReadStream(file).pipe(res);
    return true;
  };
}
