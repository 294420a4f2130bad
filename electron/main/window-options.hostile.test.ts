import { describe, expect, it } from 'vitest';
import { buildWindowOptions, SECURE_WEB_PREFERENCES } from './window-options.js';

describe('buildWindowOptions', () => {
  const options = buildWindowOptions({
    preloadPath: '/app/dist/electron/preload.cjs',
    bounds: { x: 10, y: 20, width: 900, height: 700 },
    show: false,
  });

  it('isolates and sandboxes the page and keeps Node out of it', () => {
    expect(options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(options.webPreferences?.preload).toBe('/app/dist/electron/preload.cjs');
  });

  it('cannot be weakened by the caller: security flags come last from one constant', () => {
    expect(Object.isFrozen(SECURE_WEB_PREFERENCES)).toBe(false); // `as const` is type-level only
    for (const [key, value] of Object.entries(SECURE_WEB_PREFERENCES)) {
      expect((options.webPreferences as Record<string, unknown>)[key]).toBe(value);
    }
  });

  it('uses the remembered bounds and stays hidden until asked', () => {
    expect(options).toMatchObject({ x: 10, y: 20, width: 900, height: 700, show: false });
  });
});
