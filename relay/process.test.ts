/**
 * The real command-line relay as a child process: acknowledged messages survive kill -9,
 * SIGTERM closes sockets with 1001 and exits 0, bad flags exit 2 with the usage text.
 * Slow: every test starts `node --import tsx relay/cli.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatInfo, ChatSummary, MessageSent, WireMessage } from './protocol/events.js';
import { RawClient, api, removeDir, signIn, type Session } from './testing/relay-harness.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** kill -9 rounds in the durability test. */
const KILL_ROUNDS = 4;
/** Sends per connection per round, all pushed at once. */
const BURST = 120;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface RelayProcess {
  child: ChildProcess;
  url: string;
  socketUrl: string;
  exited: Promise<Exit>;
  logs: Record<string, unknown>[];
  stderr: () => string;
}

const children = new Set<ChildProcess>();

/** The environment without PARLEY_* settings of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PARLEY_')),
  );
}

function spawnCli(args: string[]): {
  child: ChildProcess;
  exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts the CLI relay on 127.0.0.1 and an OS-chosen port; resolves once it listens. */
async function startRelayProcess(args: string[]): Promise<RelayProcess> {
  const { child, exited, stderr } = spawnCli(['--port', '0', '--host', '127.0.0.1', ...args]);
  const logs: Record<string, unknown>[] = [];
  if (child.stdout === null) throw new Error('the relay was spawned without a stdout pipe');
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      // pino writes one JSON object per line; anything else on stdout is not a log entry.
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'relay listening') resolve(entry.port as number);
    });
    void exited.then((exit) =>
      reject(new Error(`relay exited before listening (${JSON.stringify(exit)}): ${stderr()}`)),
    );
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    exited,
    logs,
    stderr,
  };
}

/** Always runs: no child outlives its test, whether it passed or not. */
afterEach(async () => {
  const running = [...children];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
        }),
    ),
  );
  children.clear();
});

/** The whole history of a chat, paged over HTTP. */
async function fullHistory(
  relay: { url: string },
  token: string,
  chatId: string,
): Promise<WireMessage[]> {
  const messages: WireMessage[] = [];
  for (let more = true; more;) {
    const page = await api<{ messages: WireMessage[]; has_more: boolean }>(
      relay,
      token,
      'GET',
      `/api/chats/${chatId}/messages?limit=500&after_seq=${messages.at(-1)?.seq ?? 0}`,
    );
    expect(page.status).toBe(200);
    messages.push(...page.body.messages);
    more = page.body.has_more;
  }
  return messages;
}

/** Opens the database file directly: integrity, and seqs that match each chat's last_seq. */
function checkDatabaseFile(dataDir: string): void {
  const db = new Database(joinPath(dataDir, 'parley.db'));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const chats = db
      .prepare(
        `SELECT c.id, c.last_seq, count(m.seq) AS stored, coalesce(max(m.seq), 0) AS top
         FROM chats c LEFT JOIN messages m ON m.chat_id = c.id GROUP BY c.id`,
      )
      .all() as { id: string; last_seq: number; stored: number; top: number }[];
    for (const chat of chats) {
      expect({ id: chat.id, stored: chat.stored, top: chat.top }).toEqual({
        id: chat.id,
        stored: chat.last_seq,
        top: chat.last_seq,
      });
    }
  } finally {
    db.close();
  }
}

describe('process (slow)', () => {
  it(
    'keeps every acknowledged message, exactly once and gap-free, across kill -9',
    { timeout: 180_000 },
    async () => {
      const dataDir = mkdtempSync(joinPath(tmpdir(), 'parley-kill-'));
      // High rate limits: the bursts are what is under test, not the limiter.
      const args = [
        '--data',
        dataDir,
        '--limit',
        'messagesPerSecond=100000',
        '--limit',
        'messageBurst=100000',
      ];
      try {
        let relay = await startRelayProcess(args);
        const users: Session[] = [];
        for (const name of ['Ana', 'Ben', 'Cy']) users.push(await signIn(relay, name));
        const [ana, ben, cy] = users as [Session, Session, Session];
        const chats = await api<{ chats: ChatSummary[] }>(relay, ana.token, 'GET', '/api/chats');
        const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
        const side = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/chats', {
          name: 'side',
          visibility: 'public',
        });
        const sideId = side.body.chat.id;
        for (const user of [ben, cy]) {
          await api(relay, user.token, 'POST', `/api/chats/${sideId}/join`);
        }
        // Four writers on two chats; Ana writes from two connections.
        const writers: { name: string; session: Session; chatId: string }[] = [
          { name: 'ana-main', session: ana, chatId: mainId },
          { name: 'ben-main', session: ben, chatId: mainId },
          { name: 'cy-side', session: cy, chatId: sideId },
          { name: 'ana-side', session: ana, chatId: sideId },
        ];
        /** Every acknowledgement ever received, by sender and mobile_ref_id. */
        const acked = new Map<string, MessageSent>();
        const sentRefs = new Set<string>();
        const key = (senderId: string, ref: string): string => `${senderId}/${ref}`;

        for (let round = 1; round <= KILL_ROUNDS; round += 1) {
          // Kill at the very first ack in round 1, later after more of them.
          const killAfter = [1, 5, 40, 120, 2][(round - 1) % 5] ?? 1;
          const clients: RawClient[] = [];
          const joinRefs: string[] = [];
          for (const writer of writers) {
            const client = await RawClient.connect(relay, writer.session.token, writer.name);
            const joined = await client.join(`chat:${writer.chatId}`);
            expect(joined.status).toBe('ok');
            clients.push(client);
            joinRefs.push(joined.joinRef);
          }
          let acks = 0;
          const victim = relay.child;
          for (const client of clients) {
            client.socket.on('message', (data) => {
              const frame = JSON.parse(data.toString()) as unknown[];
              if (frame[3] !== 'message_sent') return;
              if ((frame[4] as MessageSent).status !== 'sent') return;
              acks += 1;
              if (acks === killAfter) victim.kill('SIGKILL');
            });
          }
          clients.forEach((client, index) => {
            const writer = writers[index];
            if (writer === undefined) return;
            for (let n = 1; n <= BURST; n += 1) {
              const ref = `r${round}-${writer.name}-${n}`;
              sentRefs.add(key(writer.session.user.id, ref));
              client.send(joinRefs[index] ?? null, `chat:${writer.chatId}`, 'send_message', {
                content: `round ${round} ${writer.name} #${n}`,
                mobile_ref_id: ref,
              });
            }
          });
          const exit = await relay.exited;
          expect(exit.signal).toBe('SIGKILL');
          await Promise.all(clients.map((client) => client.closed()));
          expect(acks).toBeGreaterThanOrEqual(killAfter);
          clients.forEach((client, index) => {
            const writer = writers[index];
            for (const ack of client.events<MessageSent>('message_sent')) {
              expect(ack.status).toBe('sent');
              if (writer !== undefined)
                acked.set(key(writer.session.user.id, ack.mobile_ref_id), ack);
            }
          });
          checkDatabaseFile(dataDir);

          relay = await startRelayProcess(args);
          const byKey = new Map<string, WireMessage>();
          for (const chatId of [mainId, sideId]) {
            const history = await fullHistory(relay, ana.token, chatId);
            // Gap-free: seqs are exactly 1..N and N is the chat's last_seq.
            expect(history.map((message) => message.seq)).toEqual(
              history.map((_, index) => index + 1),
            );
            const detail = await api<{ chat: ChatInfo }>(
              relay,
              ana.token,
              'GET',
              `/api/chats/${chatId}`,
            );
            expect(detail.body.chat.last_seq).toBe(history.length);
            for (const message of history) {
              const id = key(message.sender_id, message.mobile_ref_id);
              // Exactly once, and only what a client sent.
              expect(byKey.has(id), `${id} stored twice`).toBe(false);
              expect(sentRefs.has(id), `${id} was never sent`).toBe(true);
              byKey.set(id, message);
            }
          }
          for (const [id, ack] of acked) {
            const stored = byKey.get(id);
            expect(stored, `acknowledged ${id} is missing`).toBeDefined();
            expect(stored?.seq).toBe(ack.seq);
            expect(stored?.message_id).toBe(ack.message_id);
            expect(stored?.chat_id).toBe(ack.chat_id);
          }
          // Each connection's sends are stored in order: what survived is a prefix of its burst.
          for (const writer of writers) {
            const stored = Array.from({ length: BURST }, (_, index) =>
              byKey.get(key(writer.session.user.id, `r${round}-${writer.name}-${index + 1}`)),
            );
            const survived = stored.findIndex((message) => message === undefined);
            const prefix = survived === -1 ? BURST : survived;
            expect(stored.slice(prefix).every((message) => message === undefined)).toBe(true);
            const seqs = stored.slice(0, prefix).map((message) => message?.seq ?? 0);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          }
          // A client retries what it never saw acknowledged, with the same mobile_ref_id:
          // already stored ones come back as duplicates, the rest are stored now. Exactly once.
          for (const writer of writers) {
            for (let n = 1; n <= BURST; n += 1) {
              const ref = `r${round}-${writer.name}-${n}`;
              const id = key(writer.session.user.id, ref);
              if (acked.has(id)) continue;
              const retry = await api<MessageSent & { duplicate?: boolean }>(
                relay,
                writer.session.token,
                'POST',
                `/api/chats/${writer.chatId}/messages`,
                { content: `round ${round} ${writer.name} #${n}`, mobile_ref_id: ref },
              );
              expect(retry.status).toBe(byKey.has(id) ? 200 : 201);
              if (byKey.has(id)) expect(retry.body.seq).toBe(byKey.get(id)?.seq);
              acked.set(id, retry.body);
            }
          }
          for (const chatId of [mainId, sideId]) {
            const history = await fullHistory(relay, ana.token, chatId);
            expect(history.map((message) => message.seq)).toEqual(
              history.map((_, index) => index + 1),
            );
          }
        }
        expect(acked.size).toBe(sentRefs.size);

        relay.child.kill('SIGTERM');
        expect(await relay.exited).toEqual({ code: 0, signal: null });
        checkDatabaseFile(dataDir);
      } finally {
        removeDir(dataDir);
      }
    },
  );

  it('closes sockets with 1001 on SIGTERM and exits with code 0', async () => {
    const relay = await startRelayProcess(['--memory']);
    const ana = await signIn(relay, 'Ana');
    const ben = await signIn(relay, 'Ben');
    const chats = await api<{ chats: ChatSummary[] }>(relay, ana.token, 'GET', '/api/chats');
    const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
    const idle = await RawClient.connect(relay, ana.token);
    const joined = await RawClient.connect(relay, ben.token);
    expect((await joined.join(`chat:${mainId}`)).status).toBe('ok');
    const sent = await joined.call('1', `chat:${mainId}`, 'send_message', {
      content: 'last words',
      mobile_ref_id: 'bye-1',
    });
    expect(sent.status).toBe('ok');

    relay.child.kill('SIGTERM');
    expect(await idle.closed()).toBe(1001);
    expect(await joined.closed()).toBe(1001);
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(relay.logs.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining(['stopping', 'relay closed']),
    );
    expect(relay.stderr()).toBe('');
  });

  it('exits with code 2 and prints the usage for bad flags', async () => {
    const bad = [
      ['--bogus'],
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--limit', 'nope=1'],
      ['--limit', 'maxMessageChars=0'],
      ['--limit', 'maxMessageChars'],
      ['--durability', 'sometimes'],
      ['--jwt-secret', 'short'],
      ['--main-room', ''],
      ['--log-level', 'loud'],
    ];
    const results = await Promise.all(
      bad.map(async (flags) => {
        // --memory and port 0: a wrongly accepted flag would still not touch anything.
        const run = spawnCli(['--memory', '--port', '0', '--host', '127.0.0.1', ...flags]);
        const exit = await Promise.race([
          run.exited,
          new Promise<Exit>((resolve) =>
            setTimeout(() => resolve({ code: null, signal: null }), 20_000).unref(),
          ),
        ]);
        return { flags: flags.join(' '), exit, stderr: run.stderr() };
      }),
    );
    for (const { flags, exit, stderr } of results) {
      expect({ flags, exit }).toEqual({ flags, exit: { code: 2, signal: null } });
      expect(stderr, flags).toContain('Usage: parley-relay');
    }

    const help = spawnCli(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toContain('Usage: parley-relay');
  });
});
