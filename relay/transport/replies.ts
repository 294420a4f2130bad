/** Phoenix reply and push frames for one connection. */
import { EVENTS } from '../protocol/events.js';
import { encodeFrame } from '../protocol/frame.js';
import type { Failure } from '../protocol/errors.js';
import type { Connection } from './connection.js';

/** The frame being answered: where replies go. */
export interface Inbound {
  connection: Connection;
  joinRef: string | null;
  ref: string | null;
  topic: string;
}

export function replyOk(to: Inbound, response: object = {}): void {
  to.connection.send(
    encodeFrame(to.joinRef, to.ref, to.topic, EVENTS.reply, { status: 'ok', response }),
  );
}

/** Error replies carry `reason` (Phoenix convention) and a human `message`. */
export function replyError(to: Inbound, error: Pick<Failure, 'code' | 'message'>): void {
  to.connection.send(
    encodeFrame(to.joinRef, to.ref, to.topic, EVENTS.reply, {
      status: 'error',
      response: { reason: error.code, message: error.message },
    }),
  );
}

/** A server push to one joined topic of one connection (not a reply). */
export function push(to: Inbound, event: string, payload: object): void {
  to.connection.send(encodeFrame(to.joinRef, null, to.topic, event, payload));
}
