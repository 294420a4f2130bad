/**
 * How components reach the one store and the client: a React context holding them (created once,
 * outside React, in src/main.tsx), and hooks that read the store through selectors.
 * Components never see a socket; they call the client's methods.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { ParleyClient } from '../net/parley-client.js';
import type { KeyValueStorage } from '../net/storage.js';
import type { ParleyActions, ParleyState, ParleyStore } from '../state/store.js';
import type { ParleyDesktopBridge } from '../net/desktop-bridge.js';
import type { InviteControl } from '../net/invite-follower.js';

/** Permission state of OS notifications, and a way to ask (only from a user gesture). */
export interface NotificationControl {
  permission(): NotificationPermission | 'unsupported';
  request(): Promise<NotificationPermission | 'unsupported'>;
}

export interface ParleyServices {
  store: ParleyStore;
  client: ParleyClient;
  /** Small UI preferences (last server and name on the connect screen). */
  storage: KeyValueStorage;
  /** The desktop shell's bridge (electron/shared/bridge.ts); null in a browser. */
  desktop: ParleyDesktopBridge | null;
  /** `parley://` invites being followed (renderer/net/invite-follower.ts); null in a browser. */
  invites: InviteControl | null;
  notifications: NotificationControl;
}

/** A programming error: a component was rendered outside <ParleyProvider>. */
export class MissingProviderError extends Error {
  readonly code = 'ui_no_provider';
  constructor() {
    super('Parley hooks need a <ParleyProvider> above the component');
  }
}

const ParleyContext = createContext<ParleyServices | null>(null);

export function ParleyProvider({
  services,
  children,
}: {
  services: ParleyServices;
  children: ReactNode;
}) {
  return <ParleyContext value={services}>{children}</ParleyContext>;
}

export function useServices(): ParleyServices {
  const services = useContext(ParleyContext);
  if (services === null) throw new MissingProviderError();
  return services;
}

/** Reads one slice of the store; re-renders when the selected value changes (Object.is). */
export function useParley<T>(selector: (state: ParleyState) => T): T {
  return useStore(useServices().store, selector);
}

/** For selectors that build a new array, object or Set each time: compared shallowly. */
export function useParleyShallow<T>(selector: (state: ParleyState) => T): T {
  return useStore(useServices().store, useShallow(selector));
}

export function useClient(): ParleyClient {
  return useServices().client;
}

/** The store's actions (a stable object). */
export function useActions(): ParleyActions {
  return useServices().store.getState().actions;
}
