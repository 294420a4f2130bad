/**
 * Phoenix Channels V2 JSON frames: `[join_ref, ref, topic, event, payload]`.
 * This is exactly what the official `phoenix` client's serializer sends and expects.
 */

/** One decoded frame. `join_ref` and `ref` are `null` on broadcasts and on the heartbeat's join_ref. */
export type Frame = readonly [
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: Record<string, unknown>,
];

/** Upper bounds on the frame's envelope (the payload has its own per-event schemas). */
export const FRAME_LIMITS = {
  refLength: 32,
  topicLength: 160,
  eventLength: 64,
} as const;

export type FrameParseResult =
  { ok: true; frame: Frame } | { ok: false; code: 'malformed_frame'; message: string };

function isRef(value: unknown): value is string | null {
  return value === null || (typeof value === 'string' && value.length <= FRAME_LIMITS.refLength);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decode one text frame. Never throws: anything that is not a well-formed
 * V2 frame comes back as `{ ok: false }` with a reason for the log and the close frame.
 */
export function parseFrame(text: string): FrameParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'malformed_frame', message: 'frame is not valid JSON' };
  }
  if (!Array.isArray(raw) || raw.length !== 5) {
    return { ok: false, code: 'malformed_frame', message: 'frame must be a 5-element array' };
  }
  const [joinRef, ref, topic, event, payload] = raw as unknown[];
  if (!isRef(joinRef) || !isRef(ref)) {
    return {
      ok: false,
      code: 'malformed_frame',
      message: 'join_ref and ref must be short strings or null',
    };
  }
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > FRAME_LIMITS.topicLength) {
    return {
      ok: false,
      code: 'malformed_frame',
      message: 'topic must be a non-empty short string',
    };
  }
  if (typeof event !== 'string' || event.length === 0 || event.length > FRAME_LIMITS.eventLength) {
    return {
      ok: false,
      code: 'malformed_frame',
      message: 'event must be a non-empty short string',
    };
  }
  if (!isPlainObject(payload)) {
    return { ok: false, code: 'malformed_frame', message: 'payload must be a JSON object' };
  }
  return { ok: true, frame: [joinRef, ref, topic, event, payload] };
}

/** Encode one frame. Broadcasts pass `null` refs so the same string can go to every subscriber. */
export function encodeFrame(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: unknown,
): string {
  return JSON.stringify([joinRef, ref, topic, event, payload]);
}
