import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PresenceTracker } from './presence.js';
import type { PresenceMeta } from '../protocol/events.js';

function meta(phxRef: string): PresenceMeta {
  return {
    phx_ref: phxRef,
    device_unique_id: `device-${phxRef}`,
    name: `Name "${phxRef}"`,
    online_at: '2030-01-01T00:00:00.000Z',
  };
}

describe('PresenceTracker.stateJson', () => {
  it('is always state() encoded, through any sequence of joins and leaves', () => {
    const op = fc.record({
      topic: fc.constantFrom('chat:a', 'chat:b'),
      user: fc.constantFrom('ana', 'ben', 'cy'),
      device: fc.constantFrom('1', '2'),
      join: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const tracker = new PresenceTracker();
        for (const o of ops) {
          const ref = `${o.user}-${o.device}`;
          if (o.join) tracker.track(o.topic, o.user, meta(ref));
          else tracker.untrack(o.topic, o.user, ref);
          // Read after every step, so cached pieces are reused and must be dropped on change.
          for (const topic of ['chat:a', 'chat:b']) {
            expect(JSON.parse(tracker.stateJson(topic))).toEqual(tracker.state(topic));
          }
        }
      }),
    );
  });
});
