/**
 * The desktop bridge: what the preload exposes to the renderer as `window.parleyDesktop`.
 * The renderer must work without it (the web client) and gains the desktop features when it
 * is present. Every `onX` returns its unsubscribe. Expected failures come back as `Result`
 * values, never as rejected promises.
 */
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import type { EventChannel, InvokeChannel, SendChannel } from './channels.js';
import type { Result } from './result.js';

export type { Result } from './result.js';
export type Unsubscribe = () => void;

export type HostingState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export interface HostingStatus {
  state: HostingState;
  /** The URL this app uses to join its own relay (loopback), or null when not running. */
  url: string | null;
  /** The URLs colleagues can use (one per LAN address), empty when not running. */
  lanUrls: string[];
  port: number | null;
  displayName: string | null;
  /** Stable id of this computer's relay, also in the mDNS TXT record. */
  relayId: string;
  passcodeRequired: boolean;
  /** True while the mDNS advertisement is up (false when discovery is switched off). */
  advertised: boolean;
  /** SHA-256 of the hosted relay's certificate (`AB:12:…`), for colleagues to compare; null
   * when not running or serving plain http. */
  tlsFingerprint: string | null;
  error: { code: string; message: string } | null;
}

/** What to put in an invite to this computer's room (`hosting:invite`). */
export interface HostingInviteInput {
  /** Which of HostingStatus.lanUrls the invite names; null or omitted: the first. */
  lanUrl?: string | null;
  /** Room id to open after joining; null or omitted: none. */
  room?: string | null;
  /** That room's name, shown to the invited colleague before they sign in; needs `room`. */
  roomName?: string | null;
}

/** An invite to this computer's room, built by the main process (deep-link.ts). */
export interface HostingInvite {
  /** `parley://join?host=…&port=…[&room=…[&name=…]][&fingerprint=…]`, for colleagues with the app. */
  link: string;
  /** The LAN URL it names (`https://10.0.0.5:4000`), for colleagues using a browser. */
  url: string;
  /** The hosted relay's certificate fingerprint (`AB:12:…`), null when serving plain http. */
  fingerprint: string | null;
}

/**
 * What the app knows about the certificate of a relay it connects to (`tls:pin-for`), so users
 * can compare it with the fingerprint the host reads out.
 * - `pinned`: the app accepts only this certificate for the relay (cert-pins.ts).
 * - `announced`: not connected over TLS yet; an invite, mDNS or this app's own hosting announced it.
 * - `unknown`: https, but no certificate pinned or announced yet (Chromium has not checked one).
 * - `plain`: http, no certificate at all.
 */
export interface RelayCertificate {
  /** The relay's origin, e.g. `https://10.0.0.5:4000`. */
  url: string;
  state: 'pinned' | 'announced' | 'unknown' | 'plain';
  /** `AB:12:…`; null for `unknown` and `plain`. */
  fingerprint: string | null;
  /** When it was pinned (ISO time); null unless `pinned`. */
  pinnedAt: string | null;
}

export interface HostingStartInput {
  /** TCP port, 1..65535, or 0 for any free port. */
  port: number;
  /** Sign-in passcode; null or omitted for an open room. */
  passcode?: string | null;
  /** The host's display name, shown in other people's discovered-host lists. */
  displayName: string;
}

export interface DiscoveredHost {
  /** The relay id from the TXT record (falls back to the mDNS instance name). */
  id: string;
  /** The mDNS instance name. */
  name: string;
  /** The host's display name from the TXT record. */
  displayName: string;
  /** IPv4 addresses first. */
  addresses: string[];
  port: number;
  /** https://ADDRESS:PORT (http:// when the host announces no certificate) using the first
   * address: what to pass to sign-in. */
  url: string;
  /** The certificate fingerprint from the TXT record (`fp`), `AB:12:…`; null if none. */
  fingerprint: string | null;
  protocolVersion: number | null;
  passcodeRequired: boolean;
  /** This app's own hosted relay. */
  isSelf: boolean;
}

export interface ProbedRelay {
  /** Normalised base URL, e.g. http://10.0.0.5:4000 */
  url: string;
  version: string;
}

export type ProfileAuth =
  { kind: 'token'; token: string } | { kind: 'sign-in'; displayName: string };

export interface ServerProfile {
  id: string;
  label: string;
  /** One URL, or several nodes of a cluster. */
  urls: string[];
  auth: ProfileAuth;
}

export type ServerProfileInput = Omit<ServerProfile, 'id'> & { id?: string };

export interface ServerProfiles {
  profiles: ServerProfile[];
  activeId: string | null;
}

/** Every desktop setting and its type. Defaults live in electron/main/settings.ts. */
export interface DesktopSettings {
  /** Open at login, minimised to the tray. Off by default. */
  startMinimizedAtLogin: boolean;
  /** Suppresses OS notifications, frame flashing and the badge. */
  doNotDisturb: boolean;
  /** Browse and advertise `_parley._tcp` on the local network. */
  discoveryEnabled: boolean;
  /** Port used by "Host a room on this computer". */
  hostPort: number;
  /** Display name used when hosting. */
  hostDisplayName: string;
}

export type SettingKey = keyof DesktopSettings;

/** A `parley://` invite, parsed and validated by the main process. */
export interface Invite {
  host: string;
  port: number;
  /** Room id to open after joining, if the invite names one. */
  room: string | null;
  /** The room's name as the inviter's app wrote it: a label for "You were invited to …", never
   * used for access (the room that opens is `room`, with the relay's own name). */
  roomName: string | null;
  /** The host's certificate fingerprint (`AB:12:…`): the app refuses any other certificate
   * for this relay (electron/main/cert-pins.ts). */
  fingerprint: string | null;
  /** https://HOST:PORT with a fingerprint, else http://HOST:PORT */
  url: string;
}

/** A relay certificate the app refused (electron/main/cert-pins.ts). */
export interface CertWarning {
  /** `changed`: differs from the pinned one; `mismatch-expected`: from the announced one. */
  kind: 'changed' | 'mismatch-expected';
  host: string;
  port: number;
  /** The pinned (or announced) fingerprint, `AB:12:…`. */
  previous: string;
  /** The fingerprint of the certificate presented now. */
  presented: string;
  /** The text to show, naming both fingerprints. */
  message: string;
}

export interface CertRetrustInput {
  host: string;
  port: number;
  /** Must be the `presented` fingerprint of a pending warning for this host and port. */
  fingerprint: string;
}

export type StorageOp = { op: 'set'; key: string; value: string } | { op: 'remove'; key: string };

/** What the offline cache holds for one scope (one user on one server). */
export interface CacheSnapshot {
  chats: ChatSummary[];
  /** Recent confirmed messages per chat, oldest first. */
  messages: Record<string, WireMessage[]>;
  /** Highest seq read per chat. */
  readMarkers: Record<string, number>;
}

export interface AppInfo {
  version: string;
  platform: string;
  discoveryEnabled: boolean;
}

export interface RelayAllowResult {
  /** True when the window reloads to apply the widened Content-Security-Policy. */
  reload: boolean;
  url: string;
}

export interface ParleyDesktopBridge {
  readonly app: {
    info(): Promise<AppInfo>;
    /** An invite the app was opened with (or received while starting), taken once. */
    takePendingInvite(): Promise<Invite | null>;
    onInvite(listener: (invite: Invite) => void): Unsubscribe;
  };
  readonly hosting: {
    start(input: HostingStartInput): Promise<Result<HostingStatus>>;
    stop(): Promise<Result<HostingStatus>>;
    status(): Promise<HostingStatus>;
    /** The `parley://` invite (and LAN URL) of the running room; `not_hosting` when stopped,
     * `no_lan_address` when colleagues cannot reach this computer, `unknown_address` for a
     * lanUrl that is not one of the status's. */
    invite(input: HostingInviteInput): Promise<Result<HostingInvite>>;
    onStatusChanged(listener: (status: HostingStatus) => void): Unsubscribe;
  };
  readonly discovery: {
    hosts(): Promise<DiscoveredHost[]>;
    /** Restarts browsing (drops hosts that vanished without a goodbye). */
    refresh(): Promise<DiscoveredHost[]>;
    /** Checks an address typed by hand (GET /healthz from the main process). */
    probe(address: string): Promise<Result<ProbedRelay>>;
    onHostsChanged(listener: (hosts: DiscoveredHost[]) => void): Unsubscribe;
  };
  readonly relays: {
    /** Origins the Content-Security-Policy lets the page connect to. */
    allowed(): Promise<string[]>;
    /** Allows a relay chosen by the user; may reload the window to apply the new policy. */
    allow(url: string): Promise<Result<RelayAllowResult>>;
  };
  readonly profiles: {
    list(): Promise<ServerProfiles>;
    save(profile: ServerProfileInput): Promise<Result<ServerProfile>>;
    remove(id: string): Promise<Result<null>>;
    activate(id: string | null): Promise<Result<ServerProfiles>>;
  };
  readonly settings: {
    getAll(): Promise<DesktopSettings>;
    set<K extends SettingKey>(key: K, value: DesktopSettings[K]): Promise<Result<DesktopSettings>>;
    onChanged(listener: (settings: DesktopSettings) => void): Unsubscribe;
  };
  readonly offlineCache: {
    /** Every key of the renderer's KeyValueStorage (session, device id, outbox). */
    loadStorage(): Promise<Record<string, string>>;
    /** Applies storage writes in order, in one transaction. */
    applyStorage(ops: StorageOp[]): Promise<Result<null>>;
    loadSnapshot(scope: string): Promise<CacheSnapshot>;
    saveChats(scope: string, chats: ChatSummary[]): Promise<Result<null>>;
    saveHistory(scope: string, chatId: string, messages: WireMessage[]): Promise<Result<null>>;
    setReadMarker(scope: string, chatId: string, seq: number): Promise<Result<null>>;
    clear(scope: string): Promise<Result<null>>;
  };
  readonly notifications: {
    /** Unread count for the tray, dock badge (macOS) or taskbar overlay (Windows). */
    setBadge(count: number): void;
    /** Flashes the taskbar entry / bounces the dock icon when the window is not focused. */
    flashFrame(): void;
  };
  readonly tls: {
    /** Refused relay certificates waiting for the user's decision. */
    warnings(): Promise<CertWarning[]>;
    /** The user confirmed the new fingerprint with the host: pin it instead of the old one. */
    retrust(input: CertRetrustInput): Promise<Result<null>>;
    onWarning(listener: (warning: CertWarning) => void): Unsubscribe;
    /** The certificate the app pinned (or was told to expect) for a relay URL;
     * `invalid_url` for anything but an http(s) relay address. */
    pinFor(url: string): Promise<Result<RelayCertificate>>;
  };
  readonly shell: {
    /** Opens an http(s) link in the default browser; anything else is refused. */
    openExternal(url: string): Promise<Result<null>>;
  };
}

/** Request and reply types of every invoke channel, used by the preload and the main router. */
export interface InvokeMap {
  'app:info': { args: []; result: AppInfo };
  'hosting:start': { args: [HostingStartInput]; result: Result<HostingStatus> };
  'hosting:stop': { args: []; result: Result<HostingStatus> };
  'hosting:status': { args: []; result: HostingStatus };
  'hosting:invite': { args: [HostingInviteInput]; result: Result<HostingInvite> };
  'discovery:list': { args: []; result: DiscoveredHost[] };
  'discovery:refresh': { args: []; result: DiscoveredHost[] };
  'discovery:probe': { args: [string]; result: Result<ProbedRelay> };
  'relays:allow': { args: [string]; result: Result<RelayAllowResult> };
  'relays:list': { args: []; result: string[] };
  'profiles:list': { args: []; result: ServerProfiles };
  'profiles:save': { args: [ServerProfileInput]; result: Result<ServerProfile> };
  'profiles:remove': { args: [string]; result: Result<null> };
  'profiles:activate': { args: [string | null]; result: Result<ServerProfiles> };
  'settings:get-all': { args: []; result: DesktopSettings };
  'settings:set': { args: [SettingKey, unknown]; result: Result<DesktopSettings> };
  'cache:load-storage': { args: []; result: Record<string, string> };
  'cache:apply-storage': { args: [StorageOp[]]; result: Result<null> };
  'cache:load-snapshot': { args: [string]; result: CacheSnapshot };
  'cache:save-chats': { args: [string, ChatSummary[]]; result: Result<null> };
  'cache:save-history': { args: [string, string, WireMessage[]]; result: Result<null> };
  'cache:set-read-marker': { args: [string, string, number]; result: Result<null> };
  'cache:clear': { args: [string]; result: Result<null> };
  'shell:open-external': { args: [string]; result: Result<null> };
  'deep-link:take': { args: []; result: Invite | null };
  'tls:warnings': { args: []; result: CertWarning[] };
  'tls:retrust': { args: [CertRetrustInput]; result: Result<null> };
  'tls:pin-for': { args: [string]; result: Result<RelayCertificate> };
}

export interface SendMap {
  'notifications:set-badge': [number];
  'notifications:flash': [];
}

export interface EventMap {
  'hosting:changed': HostingStatus;
  'discovery:hosts-changed': DiscoveredHost[];
  'settings:changed': DesktopSettings;
  'deep-link:opened': Invite;
  'tls:certificate-refused': CertWarning;
}

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time proof that the maps above cover exactly the channels of channels.ts. */
export const CHANNEL_MAPS_MATCH: Exactly<keyof InvokeMap, InvokeChannel> &
  Exactly<keyof SendMap, SendChannel> &
  Exactly<keyof EventMap, EventChannel> = true;
