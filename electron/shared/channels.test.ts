import { describe, expect, it } from 'vitest';
import { CHANNEL_MAPS_MATCH } from './bridge.js';
import { ALL_CHANNELS, EVENTS, INVOKE, SEND } from './channels.js';

describe('IPC channels', () => {
  it('are declared once each, as domain:verb', () => {
    expect(new Set(ALL_CHANNELS).size).toBe(ALL_CHANNELS.length);
    for (const channel of ALL_CHANNELS)
      expect(channel).toMatch(/^[a-z]+(-[a-z]+)*:[a-z]+(-[a-z]+)*$/);
    expect(ALL_CHANNELS.length).toBe(
      Object.keys(INVOKE).length + Object.keys(SEND).length + Object.keys(EVENTS).length,
    );
  });

  it('match the request/reply maps of the bridge (also checked at compile time)', () => {
    expect(CHANNEL_MAPS_MATCH).toBe(true);
  });
});
