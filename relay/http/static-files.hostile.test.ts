/**
 * Path tricks against the static file server (relay/http/static-files.ts) of a real relay serving a
 * temp web folder, with secrets planted beside it, above it and behind symlinks inside it.
 * Requests go out raw over `node:net`, so no client normalises `..` or decodes anything first.
 * No answer may ever contain a secret; every answer is a documented status (200 only for files
 * of the web folder or the index.html fallback, 404 otherwise; requests HTTP cannot parse are
 * closed unanswered); and served files carry their security headers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_CSP } from './static-files.js';
import { rawHttp, type RawHttpAnswer } from '../testing/raw-http.js';
import { removeDir, startTestRelay, type TestRelay } from '../testing/relay-harness.js';

const SECRET = `SECRET-${randomBytes(8).toString('hex')}`;
const INDEX = '<!doctype html><title>Parley</title><p>index page</p>';
const SCRIPT = 'console.log("app");';
/** Text from files that live outside the web folder on every Linux machine. */
const SYSTEM_MARKERS = ['root:x:0:0', 'root:*:0:0'];

let base: string;
let web: string;
let relay: TestRelay;

beforeAll(async () => {
  base = mkdtempSync(joinPath(tmpdir(), 'parley-static-'));
  web = joinPath(base, 'web');
  mkdirSync(joinPath(web, 'assets'), { recursive: true });
  writeFileSync(joinPath(web, 'index.html'), INDEX);
  writeFileSync(joinPath(web, 'assets', 'app-abcdef12.js'), SCRIPT);
  writeFileSync(joinPath(web, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // Secrets: above the web folder, in a sibling whose name starts with the folder's name (a
  // prefix check without the separator would let it through), and behind symlinks inside.
  writeFileSync(joinPath(base, 'secret.txt'), SECRET);
  writeFileSync(joinPath(base, 'secret'), SECRET);
  mkdirSync(joinPath(base, 'web2'));
  writeFileSync(joinPath(base, 'web2', 'secret.txt'), SECRET);
  writeFileSync(joinPath(base, 'web2', 'index.html'), SECRET);
  symlinkSync(joinPath(base, 'secret.txt'), joinPath(web, 'link.txt'));
  symlinkSync(joinPath(base, 'secret'), joinPath(web, 'link'));
  symlinkSync(base, joinPath(web, 'up'));
  symlinkSync(joinPath(base, 'web2'), joinPath(web, 'sibling'));
  symlinkSync('/etc/passwd', joinPath(web, 'passwd.txt'));
  // Dotfiles and dot-folders left in a build folder (an editor's, a deploy's, a VCS's).
  writeFileSync(joinPath(web, '.env'), SECRET);
  mkdirSync(joinPath(web, '.git'));
  writeFileSync(joinPath(web, '.git', 'config'), SECRET);
  writeFileSync(joinPath(web, 'assets', '.secret.js'), SECRET);
  relay = await startTestRelay({ webDir: web });
});
afterAll(async () => {
  await relay.close();
  removeDir(relay.dataDir);
  removeDir(base);
});

function get(target: string, method = 'GET'): Promise<RawHttpAnswer> {
  return rawHttp(relay.port, {
    method,
    target,
    headers: [
      ['Host', '127.0.0.1'],
      ['Connection', 'close'],
    ],
    framing: 'none',
  });
}

/** No secret, no system file; a documented status; a 200 is a web folder file or the index. */
function expectSafe(target: string, answer: RawHttpAnswer, method = 'GET'): void {
  const what = `${method} ${target.slice(0, 100)} → ${answer.raw.subarray(0, 200).toString('latin1')}`;
  const text = answer.raw.toString('latin1');
  expect(text.includes(SECRET), what).toBe(false);
  for (const marker of SYSTEM_MARKERS) expect(text.includes(marker), what).toBe(false);
  if (answer.status === null) {
    expect(answer.raw.length, what).toBe(0);
    return;
  }
  // 431: a request line over Node's 16 KB header limit (relay/http/client-errors.ts, PROTOCOL.md).
  expect([200, 400, 403, 404, 405, 431], what).toContain(answer.status);
  if (answer.status === 431) expect(text, what).toContain('"headers_too_large"');
  expect(answer.trailing.length, what).toBe(0);
  if (answer.status === 200 && method === 'GET') {
    const served = answer.body.toString('utf8');
    expect([INDEX, SCRIPT, '<svg xmlns="http://www.w3.org/2000/svg"/>'], what).toContain(served);
  }
  if (answer.status !== 200 && method !== 'HEAD') {
    const body = JSON.parse(answer.body.toString('utf8')) as { error: { code: string } };
    expect(
      ['not_found', 'invalid_payload', 'method_not_allowed', 'headers_too_large', 'bad_request'],
      what,
    ).toContain(body.error.code);
  }
}

describe('static files: path tricks', () => {
  const tricks = (): string[] => [
    '/../secret.txt',
    '/../../../../../../../../etc/passwd',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/..%2Fsecret.txt',
    '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..\\secret.txt',
    '/..%5csecret.txt',
    '/..%5Csecret.txt',
    '/%5c..%5csecret.txt',
    '/.\\..\\secret.txt',
    '/./../secret.txt',
    '/assets/../../secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/./%2e./secret.txt',
    '/.%2e/secret.txt',
    '/..;/secret.txt',
    '/...//secret.txt',
    '//etc/passwd',
    '/etc/passwd',
    '/%2fetc%2fpasswd',
    '///etc/passwd',
    joinPath(base, 'secret.txt'),
    `/${encodeURIComponent(joinPath(base, 'secret.txt'))}`,
    `/%2f${encodeURIComponent(joinPath(base, 'secret.txt').slice(1))}`,
    `/${joinPath(base, 'secret.txt')}`,
    '/secret.txt%00.html',
    '/index.html%00',
    '/%00',
    '/%00/../secret.txt',
    '/..%00/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/%c0%ae%c0%ae%c0%afsecret.txt',
    '/%e0%80%ae%e0%80%ae/secret.txt',
    '/%c1%9c..%c1%9csecret.txt',
    '/%uff0e%uff0e/secret.txt',
    '/%ef%bc%8e%ef%bc%8e/secret.txt',
    '/%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.txt',
    '/%zz/../secret.txt',
    '/%/secret.txt',
    `/${'a/'.repeat(4_000)}../`.concat('../..'.repeat(4_001), 'secret.txt'),
    `/${'%2e%2e%2f'.repeat(2_000)}secret.txt`,
    `/${'x'.repeat(7_000)}`,
    '/link.txt',
    '/link',
    '/link/',
    '/up/secret.txt',
    '/up/secret',
    '/up/web2/secret.txt',
    '/up',
    '/up/',
    '/sibling/secret.txt',
    '/sibling/',
    '/sibling',
    '/passwd.txt',
    '/../web2/secret.txt',
    '/../web2/',
    '/..%2fweb2%2fsecret.txt',
    'http://127.0.0.1/../secret.txt',
    'http://evil.example/%2e%2e/secret.txt',
    'file:///etc/passwd',
    '*',
    'secret.txt',
    '../secret.txt',
    '/index.html/../../secret.txt',
    '/index.html?/../../secret.txt',
    '/index.html#/../../secret.txt',
    '/?file=../secret.txt',
  ];

  it('serves no file outside the web folder, whatever the path', async () => {
    for (const target of tricks()) {
      for (const method of ['GET', 'HEAD']) {
        const answer = await get(target, method);
        expectSafe(target, answer, method);
      }
    }
  }, 60_000);

  it('never serves a file outside the web folder for random paths built from tricky pieces (property)', async () => {
    const piece = fc.constantFrom(
      '..',
      '.',
      '',
      '%2e',
      '%2e%2e',
      '%2E.',
      '%252e',
      '%2f',
      '%5c',
      '\\',
      '%00',
      '%c0%ae',
      '%c0%af',
      'secret.txt',
      'secret',
      'web2',
      'up',
      'sibling',
      'link.txt',
      'link',
      'assets',
      'index.html',
      'etc',
      'passwd',
      'passwd.txt',
      '%ef%bc%8e',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 10 }),
        fc.constantFrom('GET', 'HEAD'),
        async (pieces, method) => {
          const target = `/${pieces.join('/')}`;
          expectSafe(target, await get(target, method), method);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('never serves dotfiles or dot-folders', async () => {
    for (const target of [
      '/.env',
      '/%2eenv',
      '/.git/config',
      '/.git/',
      '/.git',
      '/%2Egit/config',
      '/assets/.secret.js',
      '/assets/%2esecret.js',
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const answer = await get(target, method);
        expectSafe(target, answer, method);
        expect(answer.status, `${method} ${target}`).toBe(404);
      }
    }
  });

  it('answers other methods on files without serving them', async () => {
    for (const target of [
      '/index.html',
      '/assets/app-abcdef12.js',
      '/../secret.txt',
      '/link.txt',
    ]) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
        const answer = await get(target, method);
        expectSafe(target, answer, method);
        expect(answer.status, `${method} ${target}`).toBe(404);
      }
    }
  });

  it('serves the web folder itself, with its security headers', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body.toString()).toBe(INDEX);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toBe(WEB_CSP);
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    // Client-side routes get the index, with the same headers.
    const route = await get('/chats/general');
    expect(route.body.toString()).toBe(INDEX);
    expect(route.headers['content-security-policy']).toBe(WEB_CSP);

    const script = await get('/assets/app-abcdef12.js');
    expect(script.status).toBe(200);
    expect(script.body.toString()).toBe(SCRIPT);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    // An SVG opened directly is a document that could run script: it gets the CSP too.
    const svg = await get('/logo.svg');
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['content-security-policy']).toBe(WEB_CSP);
    expect(svg.headers['x-content-type-options']).toBe('nosniff');

    const head = await get('/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(INDEX));

    // The planted secrets are really there: the refusals above are not an accident of setup.
    expect(readFileSync(joinPath(web, 'link.txt'), 'utf8')).toBe(SECRET);
    expect(readFileSync(joinPath(web, 'up', 'secret.txt'), 'utf8')).toBe(SECRET);
  });

  it("answers the API's namespace with JSON, never a file or the page, however it is spelt (property)", async () => {
    // Regression: GET /api/nonexistent got index.html with 200 (the client-route fallback).
    const piece = fc.constantFrom(
      '',
      '.',
      '%2e',
      'nonexistent',
      'me',
      'chats',
      'index.html',
      'app-abcdef12.js',
      'assets',
      'logo.svg',
      '%2f',
      '%61pi',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api', '/%61pi', '/%61%70%69', '//api', '/./api', '/assets/../api'),
        fc.array(piece, { maxLength: 4 }),
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        async (prefix, pieces, method) => {
          const target = [prefix, ...pieces].join('/');
          const answer = await get(target, method);
          const what = `${method} ${target} → ${answer.raw.subarray(0, 200).toString('latin1')}`;
          // 401 or 405 for a real route such as /api/me, 204 for its CORS preflight; else 404.
          expect([204, 401, 404, 405], what).toContain(answer.status);
          if (answer.status === 204) return;
          expect(answer.headers['content-type'], what).toBe('application/json; charset=utf-8');
          if (method === 'HEAD') return void expect(answer.body.length, what).toBe(0);
          const body = JSON.parse(answer.body.toString('utf8')) as { error: { code: string } };
          expect(['not_found', 'unauthorized', 'method_not_allowed'], what).toContain(
            body.error.code,
          );
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('keeps answering the API and the socket path while being probed', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    // The socket path without an upgrade is not a file either.
    const socket = await get('/socket/websocket');
    expectSafe('/socket/websocket', socket);
    expect(socket.body.toString()).not.toContain(SECRET);
  });
});
