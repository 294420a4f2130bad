/**
 * The outbox survives the app being killed mid-send, and is flushed exactly once after a
 * restart, against a real relay: a child process (the renderer's ParleyClient on the desktop
 * offline cache) queues three messages while their acknowledgements are lost; the relay has
 * committed the first when the child is SIGKILLed. A second child resumes from the same
 * user-data folder and sends the outbox; a third start finds nothing left to send.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../relay/protocol/events.js';
import { api, removeDir, signIn, startTestRelay } from '../../relay/testing/relay-harness.js';
import { endChild, jsonLines } from '../../relay/testing/child-lines.js';

const APP = fileURLToPath(new URL('./testing/outbox-app.ts', import.meta.url));

type Line =
  | { event: 'queued'; chatId: string; refs: string[]; userId: string }
  | { event: 'flushed'; resumed: boolean; queuedAtStart: number; outboxAfter: string | null }
  | { event: 'storage-error'; message: string };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function runApp(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', APP], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => endChild(child));
  return { child, lines: jsonLines<Line>(child) };
}

describe('desktop outbox across an app crash', () => {
  it('resends queued messages after a SIGKILL mid-send, each stored exactly once', async () => {
    const relay = await startTestRelay({ limits: { sessionAttemptsPerMinute: 10_000 } });
    cleanups.push(() => removeDir(relay.dataDir));
    cleanups.push(() => relay.close());
    const userData = mkdtempSync(join(tmpdir(), 'parley-desktop-'));
    cleanups.push(() => removeDir(userData));
    const env = { PARLEY_USER_DATA: userData, PARLEY_RELAY_URL: relay.url };

    const first = runApp({ ...env, PARLEY_MODE: 'queue' });
    const queued = await first.lines.waitFor(
      (l) => l.event === 'queued',
      20_000,
      'messages to be queued',
    );
    if (queued.event !== 'queued') throw new Error('unreachable');

    const reader = await signIn(relay, 'Reader');
    const history = async (): Promise<WireMessage[]> =>
      (
        await api<{ messages: WireMessage[] }>(
          relay,
          reader.token,
          'GET',
          `/api/chats/${queued.chatId}/messages?after_seq=0`,
        )
      ).body.messages;
    // Mid-send: the relay committed "one", the app never heard so; "two" and "three" wait.
    const deadline = Date.now() + 10_000;
    let committed = await history();
    while (!committed.some((m) => m.content === 'one')) {
      if (Date.now() > deadline) throw new Error('the relay never committed "one"');
      await new Promise((resolve) => setTimeout(resolve, 25));
      committed = await history();
    }
    expect(committed.map((m) => m.content)).toEqual(['one']);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = runApp({ ...env, PARLEY_MODE: 'resume' });
    const flushed = await second.lines.waitFor(
      (l) => l.event === 'flushed',
      20_000,
      'the outbox to flush',
    );
    expect(flushed).toMatchObject({ resumed: true, queuedAtStart: 3, outboxAfter: '[]' });

    const stored = await history();
    expect(stored.map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(stored.map((m) => m.mobile_ref_id)).toEqual(queued.refs);
    expect(stored.every((m) => m.sender_id === queued.userId)).toBe(true);

    const third = runApp({ ...env, PARLEY_MODE: 'resume' });
    const again = await third.lines.waitFor(
      (l) => l.event === 'flushed',
      20_000,
      'the third start',
    );
    expect(again).toMatchObject({ resumed: true, queuedAtStart: 0 });
    expect((await history()).map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(
      first.lines.all
        .concat(second.lines.all, third.lines.all)
        .filter((l) => l.event === 'storage-error'),
    ).toEqual([]);
  });
});
