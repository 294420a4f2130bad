import { describe, expect, it } from 'vitest';
import { resolveAppRequest, responseHeaders } from './app-protocol.js';

const ROOT = '/app/dist/renderer';

describe('app:// requests', () => {
  it('serves files from the renderer build, with index.html for routes', () => {
    expect(resolveAppRequest('app://parley/index.html', ROOT)).toEqual({
      kind: 'file',
      path: '/app/dist/renderer/index.html',
      mimeType: 'text/html; charset=utf-8',
      isDocument: true,
    });
    expect(resolveAppRequest('app://parley/', ROOT)).toMatchObject({
      path: '/app/dist/renderer/index.html',
    });
    expect(resolveAppRequest('app://parley/chats/general', ROOT)).toMatchObject({
      path: '/app/dist/renderer/index.html',
    });
    expect(resolveAppRequest('app://parley/assets/app-1a2b.js?v=1', ROOT)).toMatchObject({
      path: '/app/dist/renderer/assets/app-1a2b.js',
      isDocument: false,
    });
  });

  it('never leaves the folder and refuses other hosts', () => {
    for (const url of [
      'app://parley/../../etc/passwd.txt',
      'app://parley/%2e%2e/%2e%2e/etc/x.js',
      'app://parley/a%5c..%5c..%5cb.js',
    ]) {
      const result = resolveAppRequest(url, ROOT);
      if (result.kind === 'file') expect(result.path.startsWith(`${ROOT}/`), url).toBe(true);
    }
    expect(resolveAppRequest('app://other/index.html', ROOT)).toEqual({
      kind: 'error',
      status: 403,
    });
    expect(resolveAppRequest('app://parley/%E0%A4%A', ROOT)).toEqual({
      kind: 'error',
      status: 400,
    });
    expect(resolveAppRequest('app://parley/secret.db', ROOT)).toEqual({
      kind: 'error',
      status: 404,
    });
  });

  it('puts the CSP on documents only', () => {
    expect(
      responseHeaders({ mimeType: 'text/html', isDocument: true }, "default-src 'none'"),
    ).toMatchObject({
      'content-security-policy': "default-src 'none'",
      'x-content-type-options': 'nosniff',
    });
    expect(responseHeaders({ mimeType: 'text/css', isDocument: false }, 'x')).not.toHaveProperty(
      'content-security-policy',
    );
  });
});
