/**
 * The desktop app itself, through Playwright's Electron launcher: the window's security
 * settings, then a room hosted in one app instance (its "Invite people" panel showing the
 * certificate fingerprint) and joined from a second, with messages both ways. Discovery is off
 * (PARLEY_DISCOVERY=off): these instances never multicast.
 *
 * It needs an Electron binary, which cannot be downloaded on machines without internet: there
 * it reports itself skipped, with the reason. On a machine with internet: `npm run
 * electron:install && npm run native:electron && npx playwright test e2e/desktop.spec.ts`
 * (under `xvfb-run` when there is no display).
 */
import { _electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveRecoveryCode } from './support/ui.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist/electron/main.js');

/** The Electron binary's path, or why there is none. */
function findElectron(): { path: string } | { reason: string } {
  try {
    // The electron package exports the binary's path, and throws when the binary was never downloaded.
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { reason: `the Electron binary is missing (${String(path)})` };
  } catch (error) {
    return {
      reason: `no Electron binary on this machine (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); it is downloaded by \`npm run electron:install\`, which needs internet`,
    };
  }
}

const electron = findElectron();
if ('reason' in electron) console.warn(`e2e/desktop.spec.ts skipped: ${electron.reason}`);

test.describe('desktop app', () => {
  test.skip('reason' in electron, 'reason' in electron ? electron.reason : '');

  const userDirs: string[] = [];
  const apps: ElectronApplication[] = [];

  test.beforeAll(() => {
    if (!existsSync(join(ROOT, 'native/electron/better_sqlite3.node'))) {
      execFileSync('npm', ['run', 'native:electron'], { cwd: ROOT, stdio: 'inherit' });
    }
    execFileSync('npm', ['run', 'build:desktop'], { cwd: ROOT, stdio: 'inherit' });
  });

  test.afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const dir of userDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function launch(): Promise<{ app: ElectronApplication; page: Page }> {
    if (!('path' in electron)) throw new Error('unreachable');
    const userData = mkdtempSync(join(tmpdir(), 'parley-e2e-desktop-'));
    userDirs.push(userData);
    const app = await _electron.launch({
      executablePath: electron.path,
      // Chromium refuses to run as root with its sandbox on (CI runs as root).
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), MAIN],
      env: {
        ...process.env,
        PARLEY_USER_DATA: userData,
        PARLEY_DISCOVERY: 'off',
        // "Host a room" listens on loopback only, never on every interface.
        PARLEY_HOSTING_HOST: '127.0.0.1',
      },
    });
    apps.push(app);
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    return { app, page };
  }

  test('the window is isolated, sandboxed, Node-free, and under a strict CSP @hostile', async () => {
    const { app, page } = await launch();
    // getLastWebPreferences is how Electron reports the effective preferences; it is not in the
    // typings, so it is called defensively and the same properties are also checked by behaviour.
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const [window] = BrowserWindow.getAllWindows();
      const contents = window?.webContents as unknown as
        { getLastWebPreferences?: () => unknown } | undefined;
      return contents?.getLastWebPreferences?.() ?? null;
    });
    if (prefs === null)
      test
        .info()
        .annotations.push({ type: 'note', description: 'getLastWebPreferences unavailable' });
    else {
      expect(prefs).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        webviewTag: false,
      });
    }

    const globals = await page.evaluate(() => ({
      require: typeof (window as { require?: unknown }).require,
      process: typeof (window as { process?: unknown }).process,
      bridge: typeof (window as { parleyDesktop?: unknown }).parleyDesktop,
      bridgeKeys: Object.keys((window as { parleyDesktop?: object }).parleyDesktop ?? {}).sort(),
      origin: location.origin,
      // contextIsolation: the page gets a frozen copy; changing it cannot reach the preload.
      tampered: (() => {
        const bridge = (window as unknown as { parleyDesktop: { shell: Record<string, unknown> } })
          .parleyDesktop;
        try {
          bridge.shell.openExternal = () => 'hijacked';
        } catch {
          // Frozen in strict mode: the assignment throws, which is the point.
        }
        return (
          typeof bridge.shell.openExternal === 'function' &&
          String(bridge.shell.openExternal).includes('hijacked')
        );
      })(),
    }));
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      bridge: 'object',
      bridgeKeys: [
        'app',
        'discovery',
        'hosting',
        'notifications',
        'offlineCache',
        'profiles',
        'relays',
        'settings',
        'shell',
        'tls',
      ],
      origin: 'app://parley',
      tampered: false,
    });

    // connect-src lists only chosen relays: anything else is blocked by the CSP.
    const violation = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener(
            'securitypolicyviolation',
            (event) => resolve(event.effectiveDirective),
            { once: true },
          );
          try {
            new WebSocket('ws://127.0.0.1:9/socket/websocket');
          } catch {
            resolve('connect-src (thrown)');
          }
        }),
    );
    expect(violation).toContain('connect-src');

    // No new windows; only http(s) leaves the app, and not from here.
    expect(await page.evaluate(() => window.open('https://example.com') === null)).toBe(true);
    expect(app.windows()).toHaveLength(1);
    const refused = await page.evaluate(() =>
      (
        window as unknown as {
          parleyDesktop: { shell: { openExternal(u: string): Promise<{ ok: boolean }> } };
        }
      ).parleyDesktop.shell.openExternal('file:///etc/passwd'),
    );
    expect(refused.ok).toBe(false);
  });

  test('one instance hosts a room, a second joins it, and they exchange messages', async () => {
    const ana = await launch();
    const ben = await launch();
    type Bridge = {
      hosting: {
        start(
          i: object,
        ): Promise<{ ok: boolean; value: { url: string; tlsFingerprint: string | null } }>;
      };
      relays: { allow(u: string): Promise<{ ok: boolean; value: { reload: boolean } }> };
    };
    const hosted = await ana.page.evaluate(() =>
      (window as unknown as { parleyDesktop: Bridge }).parleyDesktop.hosting.start({
        port: 0,
        displayName: 'Ana',
      }),
    );
    expect(hosted.ok).toBe(true);
    const url = hosted.value.url;

    for (const { page } of [ana, ben]) {
      const reloaded = page.waitForEvent('load');
      const allowed = await page.evaluate(
        (relay) =>
          (window as unknown as { parleyDesktop: Bridge }).parleyDesktop.relays.allow(relay),
        url,
      );
      expect(allowed.ok).toBe(true);
      if (allowed.value.reload) await reloaded;
    }

    for (const [{ page }, name] of [
      [ana, 'Ana'],
      [ben, 'Ben'],
    ] as const) {
      await page.getByRole('textbox', { name: 'Server address' }).fill(url);
      await page.getByRole('textbox', { name: 'Display name' }).fill(name);
      await page.getByRole('button', { name: 'Join' }).click();
      await saveRecoveryCode(page);
      await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();
    }

    // The host reads the room's address and certificate fingerprint from "Invite people".
    expect(hosted.value.tlsFingerprint).toMatch(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await ana.page.getByRole('button', { name: 'Invite people' }).click();
    const panel = ana.page.getByRole('dialog', { name: 'Invite people' });
    await expect(panel).toContainText('This computer is hosting a room');
    const lines = await panel
      .getByRole('list', { name: 'Certificate fingerprint' })
      .getByRole('listitem')
      .allTextContents();
    expect(lines.map((line) => line.trim()).join(':')).toBe(hosted.value.tlsFingerprint);
    await ana.page.keyboard.press('Escape');
    await expect(panel).toBeHidden();

    await ana.page.getByRole('textbox', { name: 'Message' }).fill('Hello from the host');
    await ana.page.getByRole('button', { name: 'Send' }).click();
    await expect(ben.page.getByRole('log', { name: 'Messages' })).toContainText(
      'Hello from the host',
    );

    await ben.page
      .getByRole('textbox', { name: 'Message' })
      .fill('Hi Ana, joined from the second app');
    await ben.page.getByRole('button', { name: 'Send' }).click();
    await expect(ana.page.getByRole('log', { name: 'Messages' })).toContainText(
      'joined from the second app',
    );
  });
});
