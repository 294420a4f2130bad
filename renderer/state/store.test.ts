import { describe, expect, it } from 'vitest';
import type { HostingStatus } from '../../electron/shared/bridge.js';
import { createParleyStore } from './store.js';

const RUNNING: HostingStatus = {
  state: 'running',
  url: 'https://127.0.0.1:4000',
  lanUrls: ['https://192.168.1.20:4000'],
  port: 4000,
  displayName: 'Ana',
  relayId: '0'.repeat(32),
  passcodeRequired: false,
  advertised: false,
  tlsFingerprint: null,
  error: null,
};

describe('hosting in the store', () => {
  it('is null until the desktop shell tells, and outlives signing out', () => {
    const store = createParleyStore();
    const { actions } = store.getState();
    expect(store.getState().hosting).toBeNull();
    actions.setHosting(RUNNING);
    actions.signedIn({ serverUrl: RUNNING.url ?? '', me: { id: 'u1', name: 'Ana' } });
    actions.openDialog('invite-people');
    actions.signedOut();
    expect(store.getState()).toMatchObject({
      status: 'signed-out',
      dialog: null,
      hosting: RUNNING,
    });
    actions.setHosting({ ...RUNNING, state: 'stopped', url: null, lanUrls: [], port: null });
    expect(store.getState().hosting?.state).toBe('stopped');
  });
});
