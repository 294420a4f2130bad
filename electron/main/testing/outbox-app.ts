/**
 * Child process for offline-cache.restart.hostile.test.ts: "the desktop app" as far as the outbox is
 * concerned. The renderer's real ParleyClient runs on the desktop storage adapter
 * (renderer/net/desktop-bridge.ts), which reaches the real offline cache through the real IPC
 * router and validators (loopback instead of Electron's IPC).
 *
 * PARLEY_MODE=queue: sign in, then write messages while every send acknowledgement is lost on
 * the way back (the relay commits the first one, the app never hears it): the app is then
 * "mid-send" and waits to be killed.
 * PARLEY_MODE=resume: start again from the same user-data folder, resume the saved session and
 * report once the outbox is empty.
 */
import WebSocket from 'ws';
import { ParleyClient } from '../../../renderer/net/parley-client.js';
import { createDesktopStorage } from '../../../renderer/net/desktop-bridge.js';
import { createParleyStore } from '../../../renderer/state/store.js';
import { startDesktop } from './desktop-harness.js';

const emit = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const mode = process.env.PARLEY_MODE;
const desktop = startDesktop({ userDataDir: process.env.PARLEY_USER_DATA ?? '' });
const storage = await createDesktopStorage(desktop.bridge.offlineCache, (message) =>
  emit({ event: 'storage-error', message }),
);
const store = createParleyStore();

/** A `ws` socket that loses the replies to send_message on the way in. */
class AckLosingSocket extends WebSocket {
  readonly #sendRefs = new Set<string>();

  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    // phoenix assigns `conn.onmessage`; shadow ws's accessor with one that filters first.
    const inherited = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
    Object.defineProperty(this, 'onmessage', {
      configurable: true,
      set: (handler: (event: { data: unknown }) => void) => {
        inherited?.set?.call(this, (event: { data: unknown }) => {
          const frame = JSON.parse(String(event.data)) as [unknown, string | null, string, string];
          if (frame[3] === 'phx_reply' && frame[1] !== null && this.#sendRefs.has(frame[1])) return;
          if (frame[3] === 'message_sent') return;
          handler(event);
        });
      },
      get: () => inherited?.get?.call(this) as unknown,
    });
  }

  override send(data: string): void {
    const frame = JSON.parse(data) as [unknown, string | null, string, string];
    if (frame[3] === 'send_message' && frame[1] !== null) this.#sendRefs.add(frame[1]);
    super.send(data);
  }
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const mainChat = (): string | undefined =>
  Object.values(store.getState().chats).find((c) => c.is_main)?.id;

if (mode === 'queue') {
  const client = new ParleyClient({
    store,
    storage,
    transport: AckLosingSocket as unknown as typeof globalThis.WebSocket,
    // Long enough that nothing is retried before the kill.
    pushTimeoutMs: 120_000,
  });
  const signed = await client.signIn({
    serverUrl: process.env.PARLEY_RELAY_URL ?? '',
    name: 'Desk',
  });
  if (!signed.ok) throw new Error(signed.message);
  await until(() => {
    const id = mainChat();
    return id !== undefined && store.getState().timelines[id] !== undefined;
  }, 'the main room to be joined');
  const chatId = mainChat() ?? '';
  const refs = ['one', 'two', 'three'].map((text) => {
    const sent = client.send(chatId, text);
    if (!sent.ok) throw new Error(sent.code);
    return sent.mobileRefId;
  });
  await storage.flushed();
  emit({ event: 'queued', chatId, refs, userId: signed.data.id });
  // Mid-send: the test waits for the relay to commit "one", then kills this process.
  setInterval(() => undefined, 1_000);
} else {
  const saved = storage.get('parley.session');
  const userId = saved === null ? null : (JSON.parse(saved) as { user: { id: string } }).user.id;
  const queued =
    userId === null
      ? []
      : (JSON.parse(storage.get(`parley.outbox:${userId}`) ?? '[]') as unknown[]);
  const client = new ParleyClient({
    store,
    storage,
    transport: WebSocket as unknown as typeof globalThis.WebSocket,
    pushTimeoutMs: 5_000,
  });
  const resumed = await client.resume();
  await until(() => store.getState().status === 'online', 'online');
  await until(() => store.getState().outboxCount === 0, 'the outbox to empty');
  await storage.flushed();
  client.stop();
  emit({
    event: 'flushed',
    resumed,
    queuedAtStart: queued.length,
    outboxAfter: storage.get(`parley.outbox:${userId ?? ''}`),
  });
  await desktop.close();
  process.exit(0);
}
