/**
 * The Electron main process entry: thin on purpose. Every decision lives in plain Node modules
 * beside it (tested under Node); this file only connects them to Electron's APIs.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
  Tray,
} from 'electron';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  APP_SCHEME,
  resolveAppRequest,
  responseHeaders,
} from './app-protocol.js';
import { DEEP_LINK_SCHEME, findDeepLink, parseDeepLink } from './deep-link.js';
import type { Invite } from '../shared/bridge.js';
import { DesktopCore, type DesktopPlatform } from './desktop-core.js';
import { navigationDecision } from './external-links.js';
import { registerIpc } from './ipc-router.js';
import { resolveSqliteBinding } from './native-binding.js';
import { iconPng } from './png.js';
import type { SecretCodec } from './server-profiles.js';
import { secondInstanceAction } from './single-instance.js';
import { trayMenu, trayTooltip, type TrayCommand } from './tray-text.js';
import { buildWindowOptions } from './window-options.js';
import {
  debounce,
  fitToDisplays,
  loadWindowState,
  saveWindowState,
  type WindowState,
} from './window-state.js';

// Every renderer runs sandboxed (no Node, OS-level sandbox), including any window a bug might
// open; the per-window `sandbox: true` in window-options.ts is then a second, explicit layer.
app.enableSandbox();

// Tests and e2e runs get their own profile folder (and with it their own single-instance lock).
if (process.env.PARLEY_USER_DATA !== undefined)
  app.setPath('userData', process.env.PARLEY_USER_DATA);

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

const appRoot = app.getAppPath();
const rendererDir = join(appRoot, 'dist', 'renderer');
const preloadPath = join(appRoot, 'dist', 'electron', 'preload.cjs');
const startedHidden =
  process.argv.includes('--hidden') || app.getLoginItemSettings().wasOpenedAtLogin;

let core: DesktopCore | null = null;
/** Invites that arrive before the core exists (macOS sends `open-url` before `ready`). */
const earlyInvites: Invite[] = [];
let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let shutDown = false;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    const action = secondInstanceAction(argv);
    if (action.kind === 'open-invite') openInvite(action.invite);
    showWindow();
  });
  // macOS delivers links through this event, also before `ready`.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    const parsed = parseDeepLink(url);
    if (parsed.ok) openInvite(parsed.value);
    showWindow();
  });
  app.whenReady().then(start, (error: unknown) => fatal('Parley could not start', error));
}

function openInvite(invite: Invite): void {
  if (core === null) earlyInvites.push(invite);
  else core.openInvite(invite);
}

function fatal(title: string, error: unknown): void {
  dialog.showErrorBox(title, error instanceof Error ? error.message : String(error));
  app.exit(1);
}

const secretCodec: SecretCodec = {
  encrypt: (plain) =>
    safeStorage.isEncryptionAvailable()
      ? `enc:${safeStorage.encryptString(plain).toString('base64')}`
      : `plain:${plain}`,
  decrypt: (stored) => {
    if (stored.startsWith('plain:')) return stored.slice('plain:'.length);
    if (!stored.startsWith('enc:') || !safeStorage.isEncryptionAvailable()) return null;
    try {
      return safeStorage.decryptString(Buffer.from(stored.slice('enc:'.length), 'base64'));
    } catch {
      // Encrypted by another OS account or a reset keychain: the user signs in again.
      return null;
    }
  },
};

async function start(): Promise<void> {
  const userData = app.getPath('userData');
  const logger = pino(
    { level: process.env.PARLEY_LOG_LEVEL ?? 'info' },
    pino.destination({ dest: join(userData, 'logs', 'parley.log'), mkdir: true, sync: false }),
  );
  const binding = resolveSqliteBinding({
    electronVersion: process.versions.electron,
    appRoot,
    resourcesPath: app.isPackaged ? process.resourcesPath : null,
    override: process.env.PARLEY_SQLITE_BINDING,
    exists: existsSync,
    readManifest: (path) => {
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as { electronVersion?: unknown };
      } catch {
        return null;
      }
    },
  });
  if (!binding.ok)
    return fatal('Parley is missing its database module', new Error(binding.message));

  const hostingHost = process.env.PARLEY_HOSTING_HOST;
  core = new DesktopCore({
    userDataDir: userData,
    discoveryAllowed: process.env.PARLEY_DISCOVERY !== 'off',
    // Tests (e2e/desktop.spec.ts) keep "Host a room" on one address, e.g. 127.0.0.1.
    ...(hostingHost === undefined
      ? {}
      : { hostingNetwork: { listenHost: hostingHost, lanAddresses: () => [hostingHost] } }),
    version: app.getVersion(),
    platform: process.platform,
    ...(binding.value === undefined ? {} : { sqliteNativeBinding: binding.value }),
    webDir: existsSync(join(rendererDir, 'index.html')) ? rendererDir : null,
    logger,
    secretCodec,
  });
  const desktop = core;

  protocol.handle(APP_SCHEME, async (request) => {
    const resolved = resolveAppRequest(request.url, rendererDir);
    if (resolved.kind === 'error') return new Response(null, { status: resolved.status });
    const csp = resolved.isDocument ? desktop.cspForDocument() : '';
    try {
      return new Response(await readFile(resolved.path), {
        headers: responseHeaders(resolved, csp),
      });
    } catch {
      if (!resolved.isDocument) return new Response(null, { status: 404 });
      const page =
        '<!doctype html><title>Parley</title><p>The renderer is not built: run <code>npm run build:desktop</code>.</p>';
      return new Response(page, { headers: responseHeaders(resolved, csp) });
    }
  });

  // LAN relays serve self-signed certificates: for the relays the app uses, the pins decide
  // (trust on first use, refuse a changed one; desktop-core.ts and cert-pins.ts). Codes: 0
  // accept, -2 refuse (net::ERR_FAILED), -3 use Chromium's own verification.
  session.defaultSession.setCertificateVerifyProc((request, callback) => {
    const verdict = desktop.verifyCertificate({
      hostname: request.hostname,
      fingerprint: request.certificate.fingerprint,
      chromiumAccepted: request.errorCode === 0,
    });
    callback(verdict === 'accept' ? 0 : verdict === 'refuse' ? -2 : -3);
  });

  // The page may show notifications and write (never read) the clipboard after a click ("Copy
  // invite link"); every other permission (camera, geolocation, clipboard-read...) is refused.
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'notifications' || permission === 'clipboard-sanitized-write'),
  );

  const platform: DesktopPlatform = {
    openExternal: (url) => shell.openExternal(url),
    flashFrame: () => {
      if (mainWindow === null || mainWindow.isFocused()) return;
      if (process.platform === 'darwin') app.dock?.bounce('informational');
      else mainWindow.flashFrame(true);
    },
    showUnread: (badge, state) => {
      if (badge.kind === 'dock') app.dock?.setBadge(badge.text);
      else if (badge.kind === 'overlay') {
        mainWindow?.setOverlayIcon(
          badge.text === '' ? null : nativeImage.createFromBuffer(iconPng(16, { dot: true })),
          badge.description,
        );
      } else app.setBadgeCount(badge.count);
      updateTray(desktop);
      tray?.setImage(
        nativeImage.createFromBuffer(iconPng(32, { dot: state.unread > 0 && !state.doNotDisturb })),
      );
    },
    reloadWindow: () => mainWindow?.webContents.reload(),
    emit: (channel, payload) => {
      if (mainWindow !== null && !mainWindow.isDestroyed())
        mainWindow.webContents.send(channel, payload);
    },
    // Chromium caches certificate decisions for the whole session and setCertificateVerifyProc
    // does not clear them (https://github.com/electron/electron/issues/41448): a re-trusted
    // certificate takes effect after a restart (quitting stops hosting cleanly first).
    certificateTrustChanged: () => {
      app.relaunch();
      app.quit();
    },
    setOpenAtLogin: (enabled) =>
      app.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: enabled, args: ['--hidden'] }),
  };

  registerIpc({
    ipc: ipcMain,
    appOrigin: APP_ORIGIN,
    invoke: desktop.invokeHandlers(),
    send: desktop.sendHandlers(),
    onRejected: (error) => logger.warn({ code: error.code, channel: error.channel }, error.message),
  });

  if (process.defaultApp && process.argv[1] !== undefined) {
    // Development (`electron dist/electron/main.js`): register the script too, or the OS would
    // start a bare Electron for parley:// links.
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [process.argv[1]]);
  } else {
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
  }
  const launchLink = findDeepLink(process.argv);
  const launchInvite = launchLink === null ? null : parseDeepLink(launchLink);
  if (launchInvite?.ok === true) desktop.openInvite(launchInvite.value);
  for (const invite of earlyInvites.splice(0)) desktop.openInvite(invite);

  tray = new Tray(nativeImage.createFromBuffer(iconPng(32)));
  tray.on('click', showWindow);
  desktop.attach(platform);
  createWindow(desktop, !(startedHidden && desktop.settings.get('startMinimizedAtLogin')));

  app.on('activate', showWindow);
  app.on('before-quit', (event) => {
    if (shutDown) return;
    // Stop hosting cleanly first: goodbye packets out, relay closed, cache closed; then quit.
    event.preventDefault();
    shutDown = true;
    desktop
      .shutdown()
      .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
      .finally(() => app.quit());
  });
}

function createWindow(desktop: DesktopCore, show: boolean): void {
  const statePath = join(app.getPath('userData'), 'window-state.json');
  const displays = screen.getAllDisplays().map((display) => display.workArea);
  const state = fitToDisplays(loadWindowState(statePath), displays);
  const window = new BrowserWindow(
    buildWindowOptions({
      preloadPath,
      bounds: state,
      show: false,
      icon: nativeImage.createFromBuffer(iconPng(256)),
    }),
  );
  mainWindow = window;
  if (state.maximized) window.maximize();
  window.once('ready-to-show', () => {
    if (show) window.show();
  });

  const save = debounce(() => {
    if (window.isDestroyed()) return;
    const bounds = window.getNormalBounds();
    const next: WindowState = { ...bounds, maximized: window.isMaximized() };
    saveWindowState(statePath, next);
  }, 500);
  window.on('resize', save.call);
  window.on('move', save.call);
  window.on('maximize', save.call);
  window.on('unmaximize', save.call);

  // New windows never open; http(s) links go to the default browser.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (navigationDecision(url, APP_ORIGIN) === 'open-external') void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    const decision = navigationDecision(url, APP_ORIGIN);
    if (decision === 'allow') return;
    event.preventDefault();
    if (decision === 'open-external') void shell.openExternal(url);
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());
  window.webContents.on('did-finish-load', () => desktop.windowReady());

  // Closing hides to the tray; quitting (tray menu, Cmd+Q) really quits.
  window.on('close', (event) => {
    if (shutDown) return;
    event.preventDefault();
    save.flush();
    window.hide();
  });
  window.on('closed', () => {
    mainWindow = null;
  });
  void window.loadURL(APP_ENTRY_URL);
}

function showWindow(): void {
  if (mainWindow === null) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function updateTray(desktop: DesktopCore): void {
  if (tray === null) return;
  const state = desktop.trayState();
  const run = (command: TrayCommand): void => {
    if (command === 'show') showWindow();
    else if (command === 'toggle-dnd') desktop.settings.set('doNotDisturb', !state.doNotDisturb);
    else if (command === 'stop-hosting') void desktop.hosting.stop();
    else app.quit();
  };
  tray.setContextMenu(
    Menu.buildFromTemplate(
      trayMenu(state).map((item) => ({
        label: item.label,
        ...(item.type === undefined ? {} : { type: item.type }),
        ...(item.checked === undefined ? {} : { checked: item.checked }),
        ...(item.enabled === undefined ? {} : { enabled: item.enabled }),
        click: () => run(item.command),
      })),
    ),
  );
  tray.setToolTip(trayTooltip(state));
}
