/**
 * The desktop app minus Electron, for tests: the real DesktopCore (real settings, cache,
 * hosting, profiles) with its real IPC router on a loopback, a bridge calling from the app's
 * own top frame, and a platform that records what would have reached Electron. Discovery is
 * off unless a (fake) mDNS is given. Hosting listens on 127.0.0.1 and reports 127.0.0.1 as the
 * only LAN address unless a test says otherwise: tests never listen on every interface.
 */
import { pino } from 'pino';
import type { EventMap, ParleyDesktopBridge } from '../../shared/bridge.js';
import { APP_ENTRY_URL, APP_ORIGIN } from '../app-protocol.js';
import { DesktopCore, type DesktopCoreOptions, type DesktopPlatform } from '../desktop-core.js';
import { registerIpc, type IpcRejectedError } from '../ipc-router.js';
import type { Mdns } from '../../../relay/index.js';
import type { BadgeAction, TrayState } from '../tray-text.js';
import { LoopbackIpc } from './loopback-ipc.js';

/** Where a test's hosted relay listens, and the one LAN address it reports. */
export const LOOPBACK_HOSTING: NonNullable<DesktopCoreOptions['hostingNetwork']> = {
  listenHost: '127.0.0.1',
  lanAddresses: () => ['127.0.0.1'],
};

export interface RecordingPlatform extends DesktopPlatform {
  opened: string[];
  flashes: number;
  reloads: number;
  badges: { badge: BadgeAction; tray: TrayState }[];
  loginItem: boolean[];
}

export interface Desktop {
  core: DesktopCore;
  ipc: LoopbackIpc;
  bridge: ParleyDesktopBridge;
  platform: RecordingPlatform;
  rejected: IpcRejectedError[];
  close(): Promise<void>;
}

export function startDesktop(options: {
  userDataDir: string;
  platform?: string;
  mdns?: Mdns;
  fetchImpl?: typeof fetch;
  /** Default: LOOPBACK_HOSTING. */
  hostingNetwork?: DesktopCoreOptions['hostingNetwork'];
  /** The built web client the hosted relay serves (none by default). */
  webDir?: string;
}): Desktop {
  const core = new DesktopCore({
    userDataDir: options.userDataDir,
    discoveryAllowed: options.mdns !== undefined,
    version: '0.1.0',
    platform: options.platform ?? 'linux',
    logger: pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' }),
    ...(options.mdns === undefined ? {} : { createMdns: () => options.mdns as Mdns }),
    ...(options.fetchImpl === undefined ? {} : { fetchImpl: options.fetchImpl }),
    hostingNetwork: options.hostingNetwork ?? LOOPBACK_HOSTING,
    ...(options.webDir === undefined ? {} : { webDir: options.webDir }),
  });
  const ipc = new LoopbackIpc();
  const platform: RecordingPlatform = {
    opened: [],
    flashes: 0,
    reloads: 0,
    badges: [],
    loginItem: [],
    openExternal: async (url) => {
      platform.opened.push(url);
    },
    flashFrame: () => {
      platform.flashes += 1;
    },
    showUnread: (badge, tray) => platform.badges.push({ badge, tray }),
    reloadWindow: () => {
      platform.reloads += 1;
    },
    emit: <C extends keyof EventMap>(channel: C, payload: EventMap[C]) =>
      ipc.emit(channel, payload),
    setOpenAtLogin: (enabled) => platform.loginItem.push(enabled),
  };
  const rejected: IpcRejectedError[] = [];
  const unregister = registerIpc({
    ipc,
    appOrigin: APP_ORIGIN,
    invoke: core.invokeHandlers(),
    send: core.sendHandlers(),
    onRejected: (error) => rejected.push(error),
  });
  core.attach(platform);
  core.cspForDocument();
  core.windowReady();
  return {
    core,
    ipc,
    bridge: ipc.bridge({ url: APP_ENTRY_URL, parent: null }),
    platform,
    rejected,
    close: async () => {
      unregister();
      await core.shutdown();
    },
  };
}
