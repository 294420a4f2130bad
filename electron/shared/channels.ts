/**
 * Every IPC channel of the desktop app, declared once. Names are `domain:verb`.
 *
 * - `INVOKE`: renderer → main requests answered with a value (`ipcRenderer.invoke` / `ipcMain.handle`).
 * - `SEND`: renderer → main one-way calls (`ipcRenderer.send` / `ipcMain.on`).
 * - `EVENTS`: main → renderer pushes (`webContents.send` / `ipcRenderer.on`).
 */
export const INVOKE = {
  appInfo: 'app:info',
  hostingStart: 'hosting:start',
  hostingStop: 'hosting:stop',
  hostingStatus: 'hosting:status',
  hostingInvite: 'hosting:invite',
  discoveryList: 'discovery:list',
  discoveryRefresh: 'discovery:refresh',
  discoveryProbe: 'discovery:probe',
  relaysAllow: 'relays:allow',
  relaysList: 'relays:list',
  profilesList: 'profiles:list',
  profilesSave: 'profiles:save',
  profilesRemove: 'profiles:remove',
  profilesActivate: 'profiles:activate',
  settingsGetAll: 'settings:get-all',
  settingsSet: 'settings:set',
  cacheLoadStorage: 'cache:load-storage',
  cacheApplyStorage: 'cache:apply-storage',
  cacheLoadSnapshot: 'cache:load-snapshot',
  cacheSaveChats: 'cache:save-chats',
  cacheSaveHistory: 'cache:save-history',
  cacheSetReadMarker: 'cache:set-read-marker',
  cacheClear: 'cache:clear',
  shellOpenExternal: 'shell:open-external',
  deepLinkTake: 'deep-link:take',
  tlsWarnings: 'tls:warnings',
  tlsRetrust: 'tls:retrust',
  tlsPinFor: 'tls:pin-for',
} as const;

export const SEND = {
  notificationsSetBadge: 'notifications:set-badge',
  notificationsFlash: 'notifications:flash',
} as const;

export const EVENTS = {
  hostingChanged: 'hosting:changed',
  discoveryHostsChanged: 'discovery:hosts-changed',
  settingsChanged: 'settings:changed',
  deepLinkOpened: 'deep-link:opened',
  tlsCertificateRefused: 'tls:certificate-refused',
} as const;

export type InvokeChannel = (typeof INVOKE)[keyof typeof INVOKE];
export type SendChannel = (typeof SEND)[keyof typeof SEND];
export type EventChannel = (typeof EVENTS)[keyof typeof EVENTS];

/** Every channel name, for the test that proves they are unique and well formed. */
export const ALL_CHANNELS: readonly string[] = [
  ...Object.values(INVOKE),
  ...Object.values(SEND),
  ...Object.values(EVENTS),
];
