/**
 * Prepared WebSocket frames: a broadcast is framed once and the same bytes are written to every
 * recipient's socket.
 *
 * Why: frames from a server are never masked (RFC 6455 §5.1), so the complete frame (header and
 * payload) of a broadcast is identical for every recipient. `ws`'s `send` frames again for each
 * one: option objects, a header Buffer and two writes (header, payload) per recipient, i.e.
 * twice the chunks in every corked `writev`. Building the frame once and writing it straight to
 * the socket under `ws` is one chunk per recipient (the "prepared message" of uWebSockets).
 *
 * Writing around `ws` is only correct while `ws` itself has nothing in flight, so a
 * {@link FrameWriter} is made only when no extension (permessage-deflate) was negotiated and it
 * refuses each write unless the socket is OPEN and `ws`'s Sender is idle (nothing queued, not
 * compressing or reading a Blob, not between the fragments of a message); the caller then falls back to `ws.send`. With the Sender idle,
 * `ws` writes its own control frames (pong, close) to the same socket synchronously, so frames
 * leave in call order either way. Bytes written here sit in the socket's writable buffer, which
 * `ws`'s `bufferedAmount` counts, so the slow-consumer limit sees them. The socket may be a
 * `net.Socket` or a `tls.TLSSocket` (host mode): both are plain Duplex streams to write to.
 *
 * The Sender's state is read from `ws` internals (`_socket`, `_sender._state`, `_queue` and
 * `_firstFragment`, checked against ws 8.23). If a later `ws` changes their shape,
 * {@link frameWriter} returns null and every frame goes through `ws.send` as before;
 * prepared-frame.test.ts pins the fast path.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/** FIN + text opcode: one unfragmented text message. */
const FIN_TEXT = 0x81;

/** A text message framed once, for many recipients. */
export class PreparedFrame {
  /** The whole frame: header and payload, unmasked. */
  readonly wire: Buffer;
  /** The UTF-8 payload alone (a view into `wire`): what `ws.send` gets on the fallback path. */
  readonly payload: Buffer;

  constructor(text: string) {
    const length = Buffer.byteLength(text);
    const header = headerLength(length);
    const wire = Buffer.allocUnsafe(header + length);
    writeHeader(wire, length);
    wire.write(text, header, 'utf8');
    this.wire = wire;
    this.payload = wire.subarray(header);
  }
}

/**
 * A text message whose payload is a per-recipient `prefix`, a large `shared` part encoded once
 * for many recipients, and a `suffix`: written as three chunks, so the shared bytes are neither
 * encoded nor copied again for each recipient (a presence_state, the same for every joiner of
 * a window but for its join_ref; see chat-channel.ts).
 */
export class SplicedFrame {
  /** The frame's chunks: header and prefix, the shared part, the suffix. */
  readonly chunks: readonly Buffer[];
  readonly #parts: readonly Buffer[];

  constructor(prefix: string, shared: Buffer, suffix: string) {
    const head = Buffer.from(prefix);
    const tail = Buffer.from(suffix);
    const length = head.length + shared.length + tail.length;
    const header = Buffer.allocUnsafe(headerLength(length));
    writeHeader(header, length);
    this.chunks = [Buffer.concat([header, head]), shared, tail];
    this.#parts = [head, shared, tail];
  }

  /**
   * The whole UTF-8 payload, copied into one Buffer on each read: what `ws.send` gets on the
   * fallback path (like PreparedFrame.payload), which is rare.
   */
  get payload(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** Bytes of an unmasked frame header for a payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** Writes the header of an unmasked FIN text frame of `length` payload bytes at `into`'s start. */
function writeHeader(into: Buffer, length: number): void {
  into[0] = FIN_TEXT;
  if (length < 126) {
    into[1] = length;
  } else if (length < 65_536) {
    into[1] = 126;
    into.writeUInt16BE(length, 2);
  } else {
    into[1] = 127;
    into.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    into.writeUInt32BE(length >>> 0, 6);
  }
}

/** The parts of ws's Sender read here (ws 8.x, lib/sender.js). */
interface SenderState {
  /** 0 (DEFAULT) when idle; DEFLATING or GET_BLOB_DATA while a frame waits. */
  _state: number;
  /** Sends waiting behind a deflate or a Blob read. */
  _queue: unknown[];
  /** False between the first and the last fragment of a fragmented message. */
  _firstFragment: boolean;
}

/** Sender state 0 in ws 8.x: nothing being compressed or read. */
const SENDER_IDLE = 0;

function isSenderState(value: unknown): value is SenderState {
  if (typeof value !== 'object' || value === null) return false;
  const sender = value as Record<string, unknown>;
  return (
    typeof sender._state === 'number' &&
    Array.isArray(sender._queue) &&
    typeof sender._firstFragment === 'boolean'
  );
}

/** Writes prepared frames straight to the socket under one `ws` WebSocket, when that is safe. */
export class FrameWriter {
  readonly #ws: WebSocket;
  readonly #sender: SenderState;
  readonly #socket: Duplex;

  constructor(ws: WebSocket, sender: SenderState, socket: Duplex) {
    this.#ws = ws;
    this.#sender = sender;
    this.#socket = socket;
  }

  /**
   * Writes the frame and returns true, or returns false without writing when `ws` must send it
   * (the socket is closing, the Sender holds frames that must go first, or it is in the middle
   * of a fragmented message).
   */
  write(frame: PreparedFrame | SplicedFrame): boolean {
    const sender = this.#sender;
    if (
      this.#ws.readyState !== WebSocket.OPEN ||
      sender._state !== SENDER_IDLE ||
      sender._queue.length !== 0 ||
      !sender._firstFragment
    ) {
      return false;
    }
    if (frame instanceof PreparedFrame) {
      this.#socket.write(frame.wire);
    } else {
      for (const chunk of frame.chunks) this.#socket.write(chunk);
    }
    return true;
  }
}

/**
 * A FrameWriter for `ws`, whose underlying socket is `socket` (the upgrade's), or null when
 * frames must go through `ws.send`: an extension such as permessage-deflate was negotiated (its
 * frames are compressed per connection), `socket` is not the one `ws` writes to, or this version
 * of `ws` keeps its Sender differently.
 */
export function frameWriter(ws: WebSocket, socket: Duplex): FrameWriter | null {
  if (ws.extensions !== '') return null;
  const internals = ws as unknown as { _socket?: unknown; _sender?: unknown };
  if (internals._socket !== socket) return null;
  const sender = internals._sender;
  if (!isSenderState(sender)) return null;
  return new FrameWriter(ws, sender, socket);
}
