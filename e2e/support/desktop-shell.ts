/**
 * The desktop app for Chromium specs, on machines where no Electron binary can be downloaded
 * (e2e/desktop.spec.ts skips there). What Electron would add around the page is rebuilt from the
 * real parts: the real main-process services (electron/main/desktop-core.ts: hosting with a real
 * embedded relay and its real certificate, certificate pins, offline cache, allow-list) behind
 * the real IPC router with its argument validation, in the Playwright process; and in the page
 * a `window.parleyDesktop` whose methods map to channels exactly as the preload's (the mapping
 * is read from electron/shared/create-bridge.ts itself, not retyped). The renderer finds it the
 * way it finds the preload's (renderer/net/desktop-bridge.ts): nothing in the product knows.
 *
 * What it does not reproduce: the app:// origin and its Content-Security-Policy (the page is
 * served by a relay over https, whose policy is bypassed, and the router's sender check is given
 * the app's frame; ipc-router.test.ts covers that check),
 * and Chromium's certificate callback, which a spec calls as `verifyCertificate` with the
 * fingerprint of a real handshake, as main.ts does. Hosting listens on 127.0.0.1 and reports
 * 127.0.0.1 as its only LAN address; discovery is off (no multicast).
 *
 * `parley://` links reach the core the way main.ts hands them over: the command line the app
 * starts with (`argv` of openDesktop: taken before the window exists, so the page gets it from
 * `app.takePendingInvite`), and a second instance's command line while it runs (`openLink`:
 * pushed to the page as `deep-link:opened`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { pino } from 'pino';
import type { EventMap } from '../../electron/shared/bridge.js';
import { createBridge } from '../../electron/shared/create-bridge.js';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../electron/main/app-protocol.js';
import { findDeepLink, parseDeepLink } from '../../electron/main/deep-link.js';
import { DesktopCore, type DesktopPlatform } from '../../electron/main/desktop-core.js';
import { registerIpc, type IpcRejectedError } from '../../electron/main/ipc-router.js';
import {
  secondInstanceAction,
  type SecondInstanceAction,
} from '../../electron/main/single-instance.js';
import { LoopbackIpc } from '../../electron/main/testing/loopback-ipc.js';
import { WEB_DIR } from './relay-process.js';

type Kind = 'invoke' | 'send' | 'subscribe';
/** domain → method → how it reaches the main process. */
type BridgeShape = Record<string, Record<string, { kind: Kind; channel: string }>>;

/** Reads createBridge's method → channel mapping by calling every method on a recording transport. */
function bridgeShape(): BridgeShape {
  let last: { kind: Kind; channel: string } | null = null;
  const bridge = createBridge({
    invoke: (channel, ..._args) => {
      last = { kind: 'invoke', channel };
      return Promise.resolve() as never;
    },
    send: (channel, ..._args) => {
      last = { kind: 'send', channel };
    },
    subscribe: (channel) => {
      last = { kind: 'subscribe', channel };
      return () => undefined;
    },
  });
  const shape: BridgeShape = {};
  for (const [domain, methods] of Object.entries(bridge)) {
    shape[domain] = {};
    for (const [name, method] of Object.entries(methods as Record<string, unknown>)) {
      last = null;
      (method as () => unknown)();
      if (last === null) throw new Error(`bridge method ${domain}.${name} used no channel`);
      shape[domain][name] = last;
    }
  }
  return shape;
}

/** Runs in the page before its scripts: builds `window.parleyDesktop` from the shape. */
function installBridge(shape: BridgeShape): void {
  type Listener = (payload: unknown) => void;
  const w = window as unknown as {
    parleyDesktopInvoke(channel: string, args: unknown[]): Promise<unknown>;
    parleyDesktopSend(channel: string, args: unknown[]): Promise<void>;
    parleyDesktopEmit?: (channel: string, payload: unknown) => void;
  };
  const listeners = new Map<string, Set<Listener>>();
  const bridge: Record<string, Record<string, unknown>> = {};
  for (const [domain, methods] of Object.entries(shape)) {
    const target: Record<string, unknown> = {};
    for (const [name, { kind, channel }] of Object.entries(methods)) {
      target[name] =
        kind === 'invoke'
          ? (...args: unknown[]) => w.parleyDesktopInvoke(channel, args)
          : kind === 'send'
            ? (...args: unknown[]) => void w.parleyDesktopSend(channel, args)
            : (listener: Listener) => {
                const set = listeners.get(channel) ?? new Set<Listener>();
                listeners.set(channel, set);
                set.add(listener);
                return () => void set.delete(listener);
              };
    }
    bridge[domain] = Object.freeze(target);
  }
  w.parleyDesktopEmit = (channel, payload) => {
    for (const listener of listeners.get(channel) ?? []) listener(payload);
  };
  Object.defineProperty(window, 'parleyDesktop', { value: Object.freeze(bridge) });
}

export interface DesktopShell {
  core: DesktopCore;
  context: BrowserContext;
  page: Page;
  /** Calls the router refused (bad arguments): a spec expects none. */
  rejected: IpcRejectedError[];
  close(): Promise<void>;
}

/**
 * One person's desktop app: a fresh user-data folder, the real DesktopCore, and a page (in its
 * own context, accepting the relays' self-signed certificates, allowed to use the clipboard)
 * opened at `pageUrl` with the bridge installed.
 */
export async function openDesktop(
  browser: Browser,
  pageUrl: string,
  name: string,
  options: {
    /** The app's command line; a `parley://` link in it is opened as main.ts does at start. */
    argv?: readonly string[];
  } = {},
): Promise<DesktopShell> {
  const userDataDir = mkdtempSync(join(tmpdir(), `parley-e2e-${name}-`));
  const core = new DesktopCore({
    userDataDir,
    discoveryAllowed: false,
    version: '0.0.0-e2e',
    platform: process.platform,
    webDir: WEB_DIR,
    logger: pino({ level: 'silent' }),
    hostingNetwork: { listenHost: '127.0.0.1', lanAddresses: () => ['127.0.0.1'] },
  });
  // "Host a room" takes any free port, so specs running side by side never collide on 4000.
  const port = core.settings.set('hostPort', 0);
  if (!port.ok) throw new Error(`setting hostPort: ${port.message}`);
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    // In the app, app:// serves the page with the core's policy (connect-src: the relays the
    // user chose; csp.test.ts and desktop-core.test.ts check it). Here a relay serves it with its
    // own, connect-src 'self', which would refuse the hosted relay on its other port. Replacing
    // the header with route.fulfill makes Chromium treat the page as a public document and
    // refuse loopback fetches (Local Network Access), so the served policy is set aside instead.
    bypassCSP: true,
    viewport: { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const ipc = new LoopbackIpc();
  const rejected: IpcRejectedError[] = [];
  const unregister = registerIpc({
    ipc,
    appOrigin: APP_ORIGIN,
    invoke: core.invokeHandlers(),
    send: core.sendHandlers(),
    onRejected: (error) => rejected.push(error),
  });
  const frame = { url: APP_ENTRY_URL, parent: null };
  let events: Promise<unknown> = Promise.resolve();
  const platform: DesktopPlatform = {
    openExternal: async () => undefined,
    flashFrame: () => undefined,
    showUnread: () => undefined,
    // What main.ts does: reload; the app protocol then serves the page with the new policy.
    reloadWindow: () => {
      core.cspForDocument();
      void page.reload().catch(() => undefined);
    },
    emit: <C extends keyof EventMap>(channel: C, payload: EventMap[C]) => {
      // In order, like webContents.send; a page that is reloading or closed misses it, as in Electron.
      events = events.then(() =>
        page
          .evaluate(
            ([c, p]) =>
              (
                window as unknown as { parleyDesktopEmit?: (c: string, p: unknown) => void }
              ).parleyDesktopEmit?.(c, p),
            [channel, payload] as const,
          )
          .catch(() => undefined),
      );
    },
    setOpenAtLogin: () => undefined,
  };
  await page.exposeFunction('parleyDesktopInvoke', (channel: string, args: unknown[]) =>
    ipc.invoke(frame, channel, ...args),
  );
  await page.exposeFunction('parleyDesktopSend', (channel: string, args: unknown[]) =>
    ipc.send(frame, channel, ...args),
  );
  await page.addInitScript(installBridge, bridgeShape());
  // main.ts at start: the link the OS started the app with, before the window exists.
  const launchLink = findDeepLink(options.argv ?? []);
  const launchInvite = launchLink === null ? null : parseDeepLink(launchLink);
  if (launchInvite?.ok === true) core.openInvite(launchInvite.value);
  core.attach(platform);
  core.cspForDocument();
  core.windowReady();
  await page.goto(pageUrl);
  return {
    core,
    context,
    page,
    rejected,
    close: async () => {
      await context.close();
      unregister();
      await core.shutdown();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * What main.ts does when a second copy of the app starts with `argv` (the OS opening a
 * `parley://` link while the app runs): the invite goes to the core, which pins its certificate
 * and pushes it to the page.
 */
export function openLink(shell: DesktopShell, argv: readonly string[]): SecondInstanceAction {
  const action = secondInstanceAction(argv);
  if (action.kind === 'open-invite') shell.core.openInvite(action.invite);
  return action;
}

/** What the connect screen does in the app, with the reload the widened CSP needs awaited. */
export async function allowRelay(shell: DesktopShell, url: string): Promise<void> {
  const reloaded = shell.page.waitForEvent('load');
  const allowed = await shell.page.evaluate(
    (relay) =>
      (
        window as unknown as {
          parleyDesktop: {
            relays: { allow(u: string): Promise<{ ok: boolean; value: { reload: boolean } }> };
          };
        }
      ).parleyDesktop.relays.allow(relay),
    url,
  );
  expect(allowed.ok).toBe(true);
  if (allowed.value.reload) await reloaded;
}
