/**
 * Builds the desktop bridge object from three transport functions. The preload passes
 * ipcRenderer-based ones; tests pass a loopback to the real main-process handlers, so the
 * mapping from bridge methods to channels is tested without Electron.
 */
import { EVENTS, INVOKE, SEND } from './channels.js';
import type { EventMap, InvokeMap, ParleyDesktopBridge, SendMap } from './bridge.js';

export interface BridgeTransport {
  invoke<C extends keyof InvokeMap>(
    channel: C,
    ...args: InvokeMap[C]['args']
  ): Promise<InvokeMap[C]['result']>;
  send<C extends keyof SendMap>(channel: C, ...args: SendMap[C]): void;
  /** Registers a listener for a main → renderer event; returns its unsubscribe. */
  subscribe<C extends keyof EventMap>(
    channel: C,
    listener: (payload: EventMap[C]) => void,
  ): () => void;
}

export function createBridge(t: BridgeTransport): ParleyDesktopBridge {
  return {
    app: {
      info: () => t.invoke(INVOKE.appInfo),
      takePendingInvite: () => t.invoke(INVOKE.deepLinkTake),
      onInvite: (listener) => t.subscribe(EVENTS.deepLinkOpened, listener),
    },
    hosting: {
      start: (input) => t.invoke(INVOKE.hostingStart, input),
      stop: () => t.invoke(INVOKE.hostingStop),
      status: () => t.invoke(INVOKE.hostingStatus),
      invite: (input) => t.invoke(INVOKE.hostingInvite, input),
      onStatusChanged: (listener) => t.subscribe(EVENTS.hostingChanged, listener),
    },
    discovery: {
      hosts: () => t.invoke(INVOKE.discoveryList),
      refresh: () => t.invoke(INVOKE.discoveryRefresh),
      probe: (address) => t.invoke(INVOKE.discoveryProbe, address),
      onHostsChanged: (listener) => t.subscribe(EVENTS.discoveryHostsChanged, listener),
    },
    relays: {
      allowed: () => t.invoke(INVOKE.relaysList),
      allow: (url) => t.invoke(INVOKE.relaysAllow, url),
    },
    profiles: {
      list: () => t.invoke(INVOKE.profilesList),
      save: (profile) => t.invoke(INVOKE.profilesSave, profile),
      remove: (id) => t.invoke(INVOKE.profilesRemove, id),
      activate: (id) => t.invoke(INVOKE.profilesActivate, id),
    },
    settings: {
      getAll: () => t.invoke(INVOKE.settingsGetAll),
      set: (key, value) => t.invoke(INVOKE.settingsSet, key, value),
      onChanged: (listener) => t.subscribe(EVENTS.settingsChanged, listener),
    },
    offlineCache: {
      loadStorage: () => t.invoke(INVOKE.cacheLoadStorage),
      applyStorage: (ops) => t.invoke(INVOKE.cacheApplyStorage, ops),
      loadSnapshot: (scope) => t.invoke(INVOKE.cacheLoadSnapshot, scope),
      saveChats: (scope, chats) => t.invoke(INVOKE.cacheSaveChats, scope, chats),
      saveHistory: (scope, chatId, messages) =>
        t.invoke(INVOKE.cacheSaveHistory, scope, chatId, messages),
      setReadMarker: (scope, chatId, seq) =>
        t.invoke(INVOKE.cacheSetReadMarker, scope, chatId, seq),
      clear: (scope) => t.invoke(INVOKE.cacheClear, scope),
    },
    notifications: {
      setBadge: (count) => t.send(SEND.notificationsSetBadge, count),
      flashFrame: () => t.send(SEND.notificationsFlash),
    },
    tls: {
      warnings: () => t.invoke(INVOKE.tlsWarnings),
      retrust: (input) => t.invoke(INVOKE.tlsRetrust, input),
      onWarning: (listener) => t.subscribe(EVENTS.tlsCertificateRefused, listener),
      pinFor: (url) => t.invoke(INVOKE.tlsPinFor, url),
    },
    shell: {
      openExternal: (url) => t.invoke(INVOKE.shellOpenExternal, url),
    },
  };
}
