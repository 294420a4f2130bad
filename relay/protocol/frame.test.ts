import fc from 'fast-check';
import { Socket } from 'phoenix';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_LIMITS, parseFrame, type Frame } from './frame.js';

/**
 * A WebSocket stand-in that records what the real phoenix client sends, so the frames below
 * are the client's own, not hand-written guesses.
 */
class CapturingTransport {
  static latest: CapturingTransport | null = null;
  readonly sent: string[] = [];
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: (() => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  #waiters: { event: string; resolve: (frame: string) => void }[] = [];

  constructor(readonly url: string) {
    CapturingTransport.latest = this;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  send(data: string): void {
    this.sent.push(data);
    const event = (JSON.parse(data) as unknown[])[3];
    for (const waiter of this.#waiters.filter((w) => w.event === event)) waiter.resolve(data);
    this.#waiters = this.#waiters.filter((w) => w.event !== event);
  }

  /** Resolves with the first frame of this event, sent already or later. */
  next(event: string): Promise<string> {
    const sent = this.sent.find((data) => (JSON.parse(data) as unknown[])[3] === event);
    if (sent !== undefined) return Promise.resolve(sent);
    return new Promise((resolve) => this.#waiters.push({ event, resolve }));
  }

  receive(data: string): void {
    this.onmessage?.({ data });
  }

  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: true });
  }
}

async function framesFromPhoenixClient(): Promise<Record<string, string>> {
  const socket = new Socket('ws://relay.invalid/socket', {
    params: { token: 'jwt', device_unique_id: 'device-1' },
    transport: CapturingTransport as unknown as typeof WebSocket,
    heartbeatIntervalMs: 5,
  });
  socket.connect();
  const transport = CapturingTransport.latest;
  if (transport === null) throw new Error('phoenix did not open a transport');
  const channel = socket.channel('chat:5f1c0e9a2b3d4c5e6f7a8b9c', { since_seq: 12 });
  channel.join();
  transport.open();
  const join = await transport.next('phx_join');
  const [joinRef, ref, topic] = JSON.parse(join) as [string, string, string];
  // Phoenix buffers pushes until the join is acknowledged.
  transport.receive(encodeFrame(joinRef, ref, topic, 'phx_reply', { status: 'ok', response: {} }));
  channel.push('send_message', { content: "Hey, i'm fine! and you?", mobile_ref_id: '123124' });
  channel.push('typing', { typing: true });
  const heartbeat = await transport.next('heartbeat');
  channel.leave();
  const frames = {
    join,
    sendMessage: await transport.next('send_message'),
    typing: await transport.next('typing'),
    heartbeat,
    leave: await transport.next('phx_leave'),
  };
  socket.disconnect();
  return frames;
}

function rejects(text: string): void {
  const result = parseFrame(text);
  expect(result, text.slice(0, 80)).toMatchObject({ ok: false, code: 'malformed_frame' });
  if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
}

describe('parseFrame', () => {
  it('accepts every frame the official phoenix client sends', async () => {
    const frames = await framesFromPhoenixClient();
    const parsed = Object.fromEntries(
      Object.entries(frames).map(([name, text]) => {
        const result = parseFrame(text);
        if (!result.ok) throw new Error(`${name} rejected: ${result.message}`);
        return [name, result.frame];
      }),
    );
    const topic = 'chat:5f1c0e9a2b3d4c5e6f7a8b9c';
    const joinRef = parsed.join?.[0];
    expect(typeof joinRef).toBe('string');
    expect(parsed.join).toEqual([joinRef, joinRef, topic, 'phx_join', { since_seq: 12 }]);
    expect(parsed.sendMessage).toEqual([
      joinRef,
      expect.any(String),
      topic,
      'send_message',
      { content: "Hey, i'm fine! and you?", mobile_ref_id: '123124' },
    ]);
    expect(parsed.typing).toEqual([joinRef, expect.any(String), topic, 'typing', { typing: true }]);
    expect(parsed.heartbeat).toEqual([null, expect.any(String), 'phoenix', 'heartbeat', {}]);
    expect(parsed.leave).toEqual([joinRef, expect.any(String), topic, 'phx_leave', {}]);
  });

  it('accepts refs, topic and event right at their length limits', () => {
    const frame: Frame = [
      'r'.repeat(FRAME_LIMITS.refLength),
      'r'.repeat(FRAME_LIMITS.refLength),
      't'.repeat(FRAME_LIMITS.topicLength),
      'e'.repeat(FRAME_LIMITS.eventLength),
      { nested: { list: [1, 'two', null] } },
    ];
    expect(parseFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
  });

  it('rejects text that is not JSON', () => {
    for (const text of ['', ' ', 'hello', '[1,2', '{"a":1', '[null,null,"t","e",{}]]', '\u0000']) {
      rejects(text);
    }
  });

  it('rejects JSON that is not a 5-element array', () => {
    const shapes: unknown[] = [
      null,
      42,
      'frame',
      true,
      {},
      { join_ref: null, ref: '1', topic: 't', event: 'e', payload: {} },
      [],
      [null, '1', 't', 'e'],
      [null, '1', 't', 'e', {}, 'extra'],
    ];
    for (const shape of shapes) rejects(JSON.stringify(shape));
  });

  it('rejects refs that are neither null nor short strings', () => {
    const long = 'r'.repeat(FRAME_LIMITS.refLength + 1);
    for (const [joinRef, ref] of [
      [1, '1'],
      ['1', 1],
      [{}, '1'],
      ['1', []],
      [true, '1'],
      [long, '1'],
      ['1', long],
    ]) {
      rejects(JSON.stringify([joinRef, ref, 'chat:a', 'phx_join', {}]));
    }
  });

  it('rejects a missing, empty, non-string or overlong topic or event', () => {
    const longTopic = 't'.repeat(FRAME_LIMITS.topicLength + 1);
    const longEvent = 'e'.repeat(FRAME_LIMITS.eventLength + 1);
    for (const topic of [null, '', 7, ['chat:a'], longTopic]) {
      rejects(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
    }
    for (const event of [null, '', 7, { e: 1 }, longEvent]) {
      rejects(JSON.stringify(['1', '1', 'chat:a', event, {}]));
    }
  });

  it('rejects a payload that is not a JSON object', () => {
    for (const payload of [null, [], [{}], 'text', 0, false]) {
      rejects(JSON.stringify(['1', '1', 'chat:a', 'send_message', payload]));
    }
  });

  it('survives deep nesting and huge input without throwing', () => {
    const depth = 200_000;
    const deepArray = '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
    const unterminated = '['.repeat(depth);
    const deepPayload = `["1","1","chat:a","e",${deepObject}]`;
    for (const text of [deepArray, deepObject, unterminated]) rejects(text);
    // A deep payload is well-formed JSON; the envelope is valid and payload schemas judge the rest.
    expect(() => parseFrame(deepPayload)).not.toThrow();
    rejects('x'.repeat(5_000_000));
    rejects(JSON.stringify(['1', '1', 'chat:a', 'e', {}]).repeat(100_000));
  });

  it('never throws, and answers either a valid frame or malformed_frame, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (text) => {
        const result = parseFrame(text);
        if (result.ok) expect(result.frame).toHaveLength(5);
        else expect(result.code).toBe('malformed_frame');
      }),
      { numRuns: 1_000 },
    );
  });

  it('accepts exactly the well-formed envelopes among arbitrary 5-element arrays', () => {
    const part = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 200 }),
      fc.integer(),
      fc.boolean(),
      fc.jsonValue(),
      fc.dictionary(fc.string(), fc.jsonValue()),
    );
    const isRef = (value: unknown): boolean =>
      value === null || (typeof value === 'string' && value.length <= FRAME_LIMITS.refLength);
    const isName = (value: unknown, max: number): boolean =>
      typeof value === 'string' && value.length > 0 && value.length <= max;
    fc.assert(
      fc.property(fc.tuple(part, part, part, part, part), (tuple) => {
        const [joinRef, ref, topic, event, payload] = tuple;
        const valid =
          isRef(joinRef) &&
          isRef(ref) &&
          isName(topic, FRAME_LIMITS.topicLength) &&
          isName(event, FRAME_LIMITS.eventLength) &&
          typeof payload === 'object' &&
          payload !== null &&
          !Array.isArray(payload);
        const result = parseFrame(JSON.stringify(tuple));
        expect(result.ok).toBe(valid);
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips every frame encodeFrame produces', () => {
    const ref = fc.option(fc.string({ maxLength: FRAME_LIMITS.refLength }), { nil: null });
    fc.assert(
      fc.property(
        ref,
        ref,
        fc.string({ minLength: 1, maxLength: FRAME_LIMITS.topicLength }),
        fc.string({ minLength: 1, maxLength: FRAME_LIMITS.eventLength }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (joinRef, msgRef, topic, event, payload) => {
          const result = parseFrame(encodeFrame(joinRef, msgRef, topic, event, payload));
          expect(result).toEqual({
            ok: true,
            frame: JSON.parse(JSON.stringify([joinRef, msgRef, topic, event, payload])),
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('encodeFrame', () => {
  it('writes the V2 array the phoenix client decodes', () => {
    expect(encodeFrame(null, null, 'chat:a', 'receive_message', { seq: 1 })).toBe(
      '[null,null,"chat:a","receive_message",{"seq":1}]',
    );
    expect(encodeFrame('3', '4', 'phoenix', 'phx_reply', { status: 'ok', response: {} })).toBe(
      '["3","4","phoenix","phx_reply",{"status":"ok","response":{}}]',
    );
  });
});
