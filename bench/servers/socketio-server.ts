/**
 * The Socket.IO peer: latest `socket.io`, rooms, WebSocket transport only. Events: `join(room,
 * ack)` and `send_message(room, content, ref)`, which emits `receive_message` (the same message
 * object Parley broadcasts) to the room except the sender. With `--redis URL` it uses
 * `@socket.io/redis-adapter`, so several of these processes form one cluster.
 * Prints `{"msg":"listening","port":N}` on stdout once it accepts connections.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const { values } = parseArgs({ options: { redis: { type: 'string' } } });

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 65_536,
});

if (values.redis !== undefined) {
  const pub = new Redis(values.redis);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

/** Per-room seq; in a cluster each node counts its own (nothing reads it). */
const seqs = new Map<string, number>();

io.on('connection', (socket) => {
  socket.on('join', (room: unknown, ack: unknown) => {
    if (typeof room !== 'string') return;
    void socket.join(room);
    if (typeof ack === 'function') ack({ ok: true });
  });
  socket.on('send_message', (room: unknown, content: unknown, ref: unknown) => {
    if (typeof room !== 'string' || typeof content !== 'string' || !socket.rooms.has(room)) return;
    const seq = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, seq);
    socket.to(room).emit('receive_message', {
      chat_id: room,
      message_id: randomUUID(),
      seq,
      content,
      sender_id: socket.id,
      sender_name: socket.id,
      timestamp: new Date().toISOString(),
      expires_at: null,
      mobile_ref_id: ref,
    });
  });
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});

process.on('SIGTERM', () => process.exit(0));
