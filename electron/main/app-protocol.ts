/**
 * The app's own pages are served from `app://parley/` (a privileged standard scheme) instead of
 * file://, so they have a real origin, every response carries the Content-Security-Policy
 * header, and nothing outside the renderer build folder can be read.
 */
import { extname, join, normalize, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'parley';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export type AppRequest =
  | { kind: 'file'; path: string; mimeType: string; isDocument: boolean }
  | { kind: 'error'; status: 400 | 403 | 404 };

/**
 * Maps an app:// URL to a file in `rootDir`. Paths without an extension fall back to
 * index.html (client-side routes); `..` and encoded separators never leave the folder.
 */
export function resolveAppRequest(requestUrl: string, rootDir: string): AppRequest {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { kind: 'error', status: 400 };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST)
    return { kind: 'error', status: 403 };
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { kind: 'error', status: 400 };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return { kind: 'error', status: 400 };
  const relative = pathname === '/' || extname(pathname) === '' ? '/index.html' : pathname;
  const root = normalize(rootDir.endsWith(sep) ? rootDir : rootDir + sep);
  const path = normalize(join(root, relative));
  if (!path.startsWith(root)) return { kind: 'error', status: 403 };
  const extension = extname(path).toLowerCase();
  const mimeType = MIME[extension];
  if (mimeType === undefined) return { kind: 'error', status: 404 };
  return { kind: 'file', path, mimeType, isDocument: extension === '.html' };
}

/** Headers for a served file; documents carry the CSP. */
export function responseHeaders(
  request: { mimeType: string; isDocument: boolean },
  csp: string,
): Record<string, string> {
  return {
    'content-type': request.mimeType,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
    ...(request.isDocument ? { 'content-security-policy': csp } : {}),
  };
}
