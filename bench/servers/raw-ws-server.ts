/**
 * The raw-ws peer: the least a Node broadcast server can do with `ws`. A client sends
 * `["join", room]` (answered `["joined", room]`) and `["send", room, content, ref]`; the server
 * builds the same message object Parley broadcasts, serializes it once and sends the bytes to
 * every other member of the room. No persistence, no auth, no limits beyond maxPayload.
 * Prints `{"msg":"listening","port":N}` on stdout once it accepts connections.
 */
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const seqs = new Map<string, number>();
let nextClient = 0;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 65_536,
});

function isFrame(value: unknown): value is [string, ...unknown[]] {
  return Array.isArray(value) && typeof value[0] === 'string';
}

wss.on('connection', (ws) => {
  const clientId = `c${(nextClient += 1)}`;
  const joined = new Set<string>();
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    for (const room of joined) rooms.get(room)?.delete(ws);
  });
  ws.on('message', (data) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      ws.close(1007, 'bad frame');
      return;
    }
    if (!isFrame(frame)) return;
    const [type, room, content, ref] = frame;
    if (typeof room !== 'string') return;
    if (type === 'join') {
      let members = rooms.get(room);
      if (members === undefined) rooms.set(room, (members = new Set()));
      members.add(ws);
      joined.add(room);
      ws.send(JSON.stringify(['joined', room]));
      return;
    }
    if (type === 'send' && typeof content === 'string' && joined.has(room)) {
      const seq = (seqs.get(room) ?? 0) + 1;
      seqs.set(room, seq);
      const message = {
        chat_id: room,
        message_id: randomUUID(),
        seq,
        content,
        sender_id: clientId,
        sender_name: clientId,
        timestamp: new Date().toISOString(),
        expires_at: null,
        mobile_ref_id: ref,
      };
      // Serialize once; every member gets the same bytes.
      const bytes = Buffer.from(JSON.stringify([null, null, room, 'receive_message', message]));
      for (const member of rooms.get(room) ?? []) {
        if (member !== ws) member.send(bytes, { binary: false });
      }
    }
  });
});

wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});

process.on('SIGTERM', () => process.exit(0));
