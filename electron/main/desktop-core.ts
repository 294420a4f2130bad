/**
 * Everything the desktop app does, without Electron: the services (settings, profiles, offline
 * cache, hosting, discovery, the relay allow-list, invites) and the IPC handlers over them.
 * main.ts supplies a `DesktopPlatform` (the few calls that need Electron) and wires the handlers
 * to ipcMain; tests drive the same handlers directly.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventMap, Invite } from '../shared/bridge.js';
import { fail, ok } from '../shared/result.js';
import {
  createBonjourMdns,
  fingerprintFromElectron,
  normalizeFingerprint,
  type Mdns,
} from '../../relay/index.js';
import { CertPins, isAccepted } from './cert-pins.js';
import { buildCsp, connectSources, relayOrigins } from './csp.js';
import { DiscoveryBrowser } from './discovery-browser.js';
import { isSafeExternalUrl } from './external-links.js';
import { HostingController } from './hosting-controller.js';
import { hostingInvite } from './hosting-invite.js';
import type { InvokeHandlers, SendHandlers } from './ipc-router.js';
import { OfflineCache } from './offline-cache.js';
import { RelayAllowList } from './relay-allow-list.js';
import { relayCertificate } from './relay-certificate.js';
import { probeRelay } from './relay-probe.js';
import { PLAIN_CODEC, ServerProfileStore, type SecretCodec } from './server-profiles.js';
import { Settings } from './settings.js';
import { InviteInbox } from './single-instance.js';
import { badgeAction, type BadgeAction, type TrayState } from './tray-text.js';

/** What the core needs from Electron; main.ts implements it, tests record it. */
export interface DesktopPlatform {
  openExternal(url: string): Promise<void>;
  flashFrame(): void;
  showUnread(badge: BadgeAction, tray: TrayState): void;
  /** Reloads the app window (to apply a widened Content-Security-Policy). */
  reloadWindow(): void;
  emit<C extends keyof EventMap>(channel: C, payload: EventMap[C]): void;
  setOpenAtLogin(enabled: boolean): void;
  /**
   * The user re-trusted a relay certificate. Chromium caches certificate decisions for the
   * session and offers no way to drop them, so main.ts restarts the app to apply it.
   */
  certificateTrustChanged?(): void;
}

export interface DesktopCoreOptions {
  userDataDir: string;
  /** False switches mDNS off whatever the setting says (tests, e2e: PARLEY_DISCOVERY=off). */
  discoveryAllowed: boolean;
  version: string;
  platform: string;
  createMdns?: () => Mdns;
  sqliteNativeBinding?: string;
  /** The built web client, served by the hosted relay to colleagues using a browser. */
  webDir?: string | null;
  logger?: Logger;
  secretCodec?: SecretCodec;
  fetchImpl?: typeof fetch;
  /** Where the hosted relay listens (default 0.0.0.0, so colleagues reach it) and which LAN
   * addresses it reports (default: the machine's); tests keep both on loopback. */
  hostingNetwork?: { listenHost: string; lanAddresses: () => string[] };
}

/** What Chromium should do with a certificate (main.ts maps it to setCertificateVerifyProc codes). */
export type CertificateVerdict = 'accept' | 'refuse' | 'default';

export interface CertificateCheck {
  /** The host name of the connection (no port: Chromium does not tell it). */
  hostname: string;
  /** Electron's `certificate.fingerprint` (`sha256/<base64>`) or any SHA-256 spelling. */
  fingerprint: string;
  /** True when Chromium's own verification (system CAs) accepted the certificate. */
  chromiumAccepted: boolean;
}

/** Delay between answering `relays:allow` and reloading, so the answer reaches the page first. */
export const RELOAD_DELAY_MS = 100;

export class DesktopCore {
  readonly settings: Settings;
  readonly profiles: ServerProfileStore;
  readonly cache: OfflineCache;
  readonly hosting: HostingController;
  readonly discovery: DiscoveryBrowser;
  readonly allowList: RelayAllowList;
  /** Certificate pins of LAN relays (trust on first use), in `cert-pins.json`. */
  readonly pins: CertPins;
  readonly invites = new InviteInbox();
  readonly #o: DesktopCoreOptions;
  #mdns: Mdns | null = null;
  #servedCsp: string | null = null;
  #unread = 0;
  #platform: DesktopPlatform | null = null;
  readonly #unsubscribers: (() => void)[] = [];

  constructor(options: DesktopCoreOptions) {
    this.#o = options;
    const dir = options.userDataDir;
    this.settings = new Settings(join(dir, 'settings.json'), {
      onCorrupt: (error) =>
        options.logger?.warn({ err: error }, 'settings.json is corrupt; using defaults'),
    });
    this.profiles = new ServerProfileStore({
      path: join(dir, 'server-profiles.json'),
      codec: options.secretCodec ?? PLAIN_CODEC,
    });
    this.cache = new OfflineCache({
      path: join(dir, 'offline-cache.db'),
      ...(options.sqliteNativeBinding === undefined
        ? {}
        : { nativeBinding: options.sqliteNativeBinding }),
    });
    this.hosting = new HostingController({
      dataDir: join(dir, 'hosted-relay'),
      mdns: () => this.#mdnsIfEnabled(),
      webDir: options.webDir ?? null,
      ...(options.hostingNetwork === undefined
        ? {}
        : {
            listenHost: options.hostingNetwork.listenHost,
            lanAddresses: options.hostingNetwork.lanAddresses,
          }),
      ...(options.sqliteNativeBinding === undefined
        ? {}
        : { sqliteNativeBinding: options.sqliteNativeBinding }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.pins = new CertPins({
      path: join(dir, 'cert-pins.json'),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    // Announced fingerprints (the own hosted relay, mDNS TXT `fp`) decide first connections.
    this.hosting.onChange((status) => {
      if (status.state !== 'running' || status.tlsFingerprint === null) return;
      for (const url of [status.url, ...status.lanUrls]) {
        if (url === null) continue;
        const { hostname, port } = new URL(url);
        this.pins.expect(hostname, Number(port), status.tlsFingerprint, 'this computer');
      }
    });
    this.discovery = new DiscoveryBrowser({
      mdns: () => this.#mdnsIfEnabled(),
      selfRelayId: () => this.hosting.relayId,
    });
    this.discovery.onChange((hosts) => {
      for (const host of hosts) {
        if (host.fingerprint === null) continue;
        for (const address of host.addresses) {
          this.pins.expect(address, host.port, host.fingerprint, `mDNS (${host.displayName})`);
        }
      }
    });
    this.allowList = new RelayAllowList({
      path: join(dir, 'allowed-relays.json'),
      live: () => {
        const hosting = this.hosting.status();
        return [
          ...this.profiles.urls(),
          ...(hosting.url === null ? [] : [hosting.url, ...hosting.lanUrls]),
          // Not discovered hosts: anyone on the LAN can announce one by mDNS. A discovered
          // host the user picks is allowed then (relays:allow, as for a typed address).
        ];
      },
    });
  }

  get discoveryEnabled(): boolean {
    return this.#o.discoveryAllowed && this.settings.get('discoveryEnabled');
  }

  /** Connects the core to Electron: events flow to the window, discovery starts if enabled. */
  attach(platform: DesktopPlatform): void {
    this.#platform = platform;
    this.#unsubscribers.push(
      this.hosting.onChange((status) => {
        platform.emit('hosting:changed', status);
        this.#showUnread();
      }),
      this.settings.onChange((settings) => {
        platform.emit('settings:changed', settings);
        platform.setOpenAtLogin(settings.startMinimizedAtLogin);
        this.#applyDiscoverySetting();
        this.#showUnread();
      }),
      this.discovery.onChange((hosts) => platform.emit('discovery:hosts-changed', hosts)),
      this.pins.onWarning((warning) => platform.emit('tls:certificate-refused', warning)),
    );
    this.invites.setDeliver(null);
    this.#applyDiscoverySetting();
    this.#showUnread();
  }

  /** The window has loaded: invites from now on go straight to it. */
  windowReady(): void {
    const platform = this.#platform;
    this.invites.setDeliver(
      platform === null ? null : (invite) => platform.emit('deep-link:opened', invite),
    );
  }

  openInvite(invite: Invite): void {
    if (invite.fingerprint !== null) {
      this.pins.expect(invite.host, invite.port, invite.fingerprint, 'the invite');
    }
    this.invites.put(invite);
  }

  /**
   * Chromium's certificate check, for every TLS connection of the app. A certificate the system
   * CAs accept is left to Chromium. For a relay the app connects to (hosted, discovered, invited,
   * typed, profiles) the pins decide: trusted, expected or first use → accept; changed or not the
   * announced one → refuse (and the page is told, see CertPins.onWarning). Anything else → the
   * default (Chromium refuses what it could not verify).
   */
  verifyCertificate(check: CertificateCheck): CertificateVerdict {
    if (check.chromiumAccepted) return 'default';
    const host = check.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const ports = new Set<number>();
    for (const url of this.allowList.all()) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:') continue;
      if (parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase() !== host) continue;
      ports.add(Number(parsed.port || 443));
    }
    if (ports.size === 0) return 'default';
    const presented =
      fingerprintFromElectron(check.fingerprint) ?? normalizeFingerprint(check.fingerprint);
    if (presented === null) return 'refuse';
    // Chromium does not say which port: the relay on this host whose pin (or announced
    // fingerprint) this certificate is, else the first one.
    const candidates = [...ports].sort((a, b) => a - b);
    const port =
      candidates.find((p) => this.pins.pinned(host, p) === presented) ??
      candidates.find((p) => this.pins.expectedFor(host, p) === presented) ??
      candidates[0] ??
      443;
    const relayId =
      this.discovery
        .hosts()
        .find((h) => h.port === port && h.addresses.some((a) => a.toLowerCase() === host))?.id ??
      null;
    return isAccepted(this.pins.decide({ host, port, presented, relayId })) ? 'accept' : 'refuse';
  }

  /** The CSP for a document being served now (and remembered, to know when a reload is needed). */
  cspForDocument(): string {
    const csp = buildCsp({ relayUrls: this.allowList.all() });
    this.#servedCsp = csp;
    return csp;
  }

  trayState(): TrayState {
    return {
      unread: this.#unread,
      hostingUrl: this.hosting.status().url,
      doNotDisturb: this.settings.get('doNotDisturb'),
    };
  }

  invokeHandlers(): InvokeHandlers {
    return {
      'app:info': () => ({
        version: this.#o.version,
        platform: this.#o.platform,
        discoveryEnabled: this.discoveryEnabled,
      }),
      'hosting:start': (input) => this.hosting.start(input),
      'hosting:stop': () => this.hosting.stop(),
      'hosting:status': () => this.hosting.status(),
      'hosting:invite': (input) => hostingInvite(this.hosting.status(), input),
      'discovery:list': () => this.discovery.hosts(),
      'discovery:refresh': () => this.discovery.refresh(),
      'discovery:probe': (address) =>
        probeRelay(address, {
          pins: this.pins,
          ...(this.#o.fetchImpl === undefined ? {} : { fetchImpl: this.#o.fetchImpl }),
        }),
      'relays:list': () => this.allowList.all(),
      'relays:allow': (address) => {
        const allowed = this.allowList.allow(address);
        if (!allowed.ok) return allowed;
        const served = this.#servedCsp === null ? [] : connectSources(this.#servedCsp);
        const reload = relayOrigins(allowed.value).some((origin) => !served.includes(origin));
        if (reload) setTimeout(() => this.#platform?.reloadWindow(), RELOAD_DELAY_MS);
        return ok({ url: allowed.value, reload });
      },
      'profiles:list': () => this.profiles.list(),
      'profiles:save': (input) => this.profiles.save(input),
      'profiles:remove': (id) => this.profiles.remove(id),
      'profiles:activate': (id) => this.profiles.activate(id),
      'settings:get-all': () => this.settings.all(),
      'settings:set': (key, value) => this.settings.set(key, value),
      'cache:load-storage': () => this.cache.loadStorage(),
      'cache:apply-storage': (ops) => this.cache.applyStorage(ops),
      'cache:load-snapshot': (scope) => this.cache.loadSnapshot(scope),
      'cache:save-chats': (scope, chats) => this.cache.saveChats(scope, chats),
      'cache:save-history': (scope, chatId, messages) =>
        this.cache.saveHistory(scope, chatId, messages),
      'cache:set-read-marker': (scope, chatId, seq) => this.cache.setReadMarker(scope, chatId, seq),
      'cache:clear': (scope) => this.cache.clear(scope),
      'shell:open-external': async (url) => {
        if (!isSafeExternalUrl(url))
          return fail('unsafe_url', 'only http(s) links open outside the app');
        await this.#platform?.openExternal(url);
        return ok(null);
      },
      'deep-link:take': () => this.invites.take(),
      'tls:warnings': () => this.pins.pending(),
      'tls:retrust': (input) => {
        const result = this.pins.retrust(input.host, input.port, input.fingerprint);
        if (!result.ok) return result;
        setTimeout(() => this.#platform?.certificateTrustChanged?.(), RELOAD_DELAY_MS);
        return ok(null);
      },
      'tls:pin-for': (url) => relayCertificate(url, this.pins),
    };
  }

  sendHandlers(): SendHandlers {
    return {
      'notifications:set-badge': (count) => {
        this.#unread = count;
        this.#showUnread();
      },
      'notifications:flash': () => {
        if (!this.settings.get('doNotDisturb')) this.#platform?.flashFrame();
      },
    };
  }

  /** Quit: withdraw the advertisement (goodbye packets), close the relay, stop browsing, close the cache. */
  async shutdown(): Promise<void> {
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
    await this.hosting.stop();
    this.discovery.stop();
    await this.#destroyMdns();
    this.cache.close();
  }

  #showUnread(): void {
    const tray = this.trayState();
    this.#platform?.showUnread(badgeAction(this.#o.platform, tray.unread, tray.doNotDisturb), tray);
  }

  #mdnsIfEnabled(): Mdns | null {
    if (!this.discoveryEnabled) return null;
    this.#mdns ??= (
      this.#o.createMdns ??
      (() =>
        createBonjourMdns({
          onError: (error) => this.#o.logger?.warn({ err: error }, 'mDNS error'),
        }))
    )();
    return this.#mdns;
  }

  #applyDiscoverySetting(): void {
    if (this.discoveryEnabled) {
      this.discovery.start();
      return;
    }
    this.discovery.stop();
    // Takes effect at once for the advertisement too; turning discovery back on advertises
    // again at the next "Host a room".
    this.hosting
      .withdrawAdvertisement()
      .catch((error: unknown) =>
        this.#o.logger?.warn({ err: error }, 'withdrawing the advertisement failed'),
      );
  }

  async #destroyMdns(): Promise<void> {
    const mdns = this.#mdns;
    this.#mdns = null;
    await mdns?.destroy();
  }
}
