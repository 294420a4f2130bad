/**
 * The relay's disk fills up or turns read-only under it. Sends then fail with a clear, documented
 * reason (`storage_full`, `storage_read_only`; HTTP 503), nothing acknowledged is lost, reads
 * keep working, the log says so without one line per refused send, and sends work again as soon
 * as the disk does, without a restart. Starting on such a data folder exits with one clear line.
 *
 * Real file systems, mounted by the test (root with CAP_SYS_ADMIN; skipped with the reason
 * otherwise): a small tmpfs for "full", and an ext4 image on a loop device for "read-only while
 * running". Linux refuses `mount -o remount,ro` while a process holds files open for writing
 * (EBUSY, what a running relay always does), so there the data folder and its database files
 * are made immutable (`chattr +i`, which ext4 enforces on open files too, even for root); a
 * read-only mount is used for the start-up cases.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatSummary, MessageSent, WireMessage } from '../protocol/events.js';
import {
  RawClient,
  api,
  signIn,
  startTestRelay,
  until,
  type Session,
  type TestRelay,
} from '../testing/relay-harness.js';
import { BASE_RELAY_ARGS, killAllRelayProcesses, spawnCli } from '../testing/relay-process.js';

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: 'pipe' });
}

/** Why these tests cannot run here, or null: they mount file systems. */
function mountUnavailable(kind: 'tmpfs' | 'ext4'): string | null {
  const probe = mkdtempSync(joinPath(tmpdir(), 'parley-mount-probe-'));
  const image = `${probe}.img`;
  try {
    if (kind === 'tmpfs') {
      run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    } else {
      run('truncate', ['-s', '8M', image]);
      run('mkfs.ext4', ['-q', '-F', image]);
      run('mount', ['-o', 'loop', image, probe]);
    }
    run('umount', [probe]);
    return null;
  } catch (error) {
    return `cannot mount ${kind} (needs root with CAP_SYS_ADMIN${kind === 'ext4' ? ', mkfs.ext4 and a loop device' : ''}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  } finally {
    rmSync(image, { force: true });
    rmSync(probe, { recursive: true, force: true });
  }
}

const NO_TMPFS = mountUnavailable('tmpfs');
const NO_EXT4 = NO_TMPFS ?? mountUnavailable('ext4');
if (NO_TMPFS !== null) console.log(`storage-failure tests skipped: ${NO_TMPFS}`);
else if (NO_EXT4 !== null) console.log(`read-only-while-running test skipped: ${NO_EXT4}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await killAllRelayProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh mount point with a file system of `sizeMb`, unmounted (and removed) in cleanup. */
function mountFresh(kind: 'tmpfs' | 'ext4', sizeMb: number): string {
  const dir = mkdtempSync(joinPath(tmpdir(), `parley-${kind}-`));
  const image = `${dir}.img`;
  if (kind === 'tmpfs') {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  } else {
    run('truncate', ['-s', `${sizeMb}M`, image]);
    // -m 0: no blocks reserved for root (the tests run as root and would use them).
    run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    run('mount', ['-o', 'loop', image, dir]);
  }
  cleanups.push(() => {
    // Immutable flags or a read-only remount must not outlive the test.
    if (kind === 'ext4') execFileSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
    run('umount', [dir]);
    rmSync(image, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes a filler file until the file system is full; returns its path. */
function fill(dir: string): string {
  const path = joinPath(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

interface LogEntry {
  level: number;
  msg: string;
  code?: string;
  messages?: number;
  writes?: number;
}

/** An in-process relay on `dataDir` whose log lines the test reads. */
async function startLoggedRelay(dataDir: string): Promise<{ relay: TestRelay; log: LogEntry[] }> {
  const log: LogEntry[] = [];
  const relay = await startTestRelay({
    dataDir,
    durability: 'full',
    logger: pino(
      { level: 'info' },
      { write: (line: string) => void log.push(JSON.parse(line) as LogEntry) },
    ),
    limits: { messagesPerSecond: 10_000, messageBurst: 10_000 },
  });
  cleanups.push(() => relay.close());
  return { relay, log };
}

interface Room {
  ana: Session;
  ben: Session;
  /** Offline in the main room: the sends leave Cy pending notifications to acknowledge. */
  cy: Session;
  mainId: string;
  /** A public room of Ana's that Ben has never joined: his first join adds a membership. */
  sideId: string;
  sender: RawClient;
  senderJoin: string;
  reader: RawClient;
}

async function openRoom(relay: TestRelay): Promise<Room> {
  const ana = await signIn(relay, 'Ana');
  const ben = await signIn(relay, 'Ben');
  const cy = await signIn(relay, 'Cy');
  const chats = await api<{ chats: ChatSummary[] }>(relay, ana.token, 'GET', '/api/chats');
  const mainId = chats.body.chats.find((chat) => chat.is_main)?.id ?? '';
  const side = await api<{ chat: { id: string } }>(relay, ana.token, 'POST', '/api/chats', {
    name: 'Side',
    visibility: 'public',
  });
  expect(side.status).toBe(201);
  const sideId = side.body.chat.id;
  const sender = await RawClient.connect(relay, ana.token, 'ana-sender');
  const joined = await sender.join(`chat:${mainId}`);
  expect(joined.status).toBe('ok');
  const reader = await RawClient.connect(relay, ben.token, 'ben-reader');
  expect((await reader.join(`chat:${mainId}`)).status).toBe('ok');
  cleanups.push(() => {
    sender.close();
    reader.close();
  });
  return { ana, ben, cy, mainId, sideId, sender, senderJoin: joined.joinRef, reader };
}

/** One send over the socket; resolves with its `message_sent` push and the reply status. */
async function socketSend(
  room: Room,
  ref: string,
  content = `text of ${ref}`,
): Promise<{ reply: string; sent: MessageSent }> {
  // Only frames after this send: a retried ref has an earlier answer in the list.
  const from = room.sender.frames.length;
  const frameRef = room.sender.send(room.senderJoin, `chat:${room.mainId}`, 'send_message', {
    content,
    mobile_ref_id: ref,
  });
  const reply = await room.sender.reply(frameRef, 15_000);
  const isAnswer = (frame: unknown[]): boolean =>
    frame[3] === 'message_sent' && (frame[4] as MessageSent).mobile_ref_id === ref;
  await until(() => room.sender.frames.slice(from).some(isAnswer), 15_000, `message_sent ${ref}`);
  const push = room.sender.frames.slice(from).find(isAnswer) ?? [];
  return { reply: reply.status, sent: push[4] as MessageSent };
}

async function history(relay: TestRelay, room: Room): Promise<WireMessage[]> {
  const page = await api<{ messages: WireMessage[] }>(
    relay,
    room.ben.token,
    'GET',
    `/api/chats/${room.mainId}/messages?after_seq=0&limit=500`,
  );
  expect(page.status).toBe(200);
  return page.body.messages;
}

/** Every acknowledged message is stored once, with its seq; seqs are 1..N. */
async function expectAcknowledgedKept(
  relay: TestRelay,
  room: Room,
  acked: Map<string, number>,
): Promise<void> {
  const stored = await history(relay, room);
  expect(stored.map((message) => message.seq)).toEqual(stored.map((_, index) => index + 1));
  const byRef = new Map(stored.map((message) => [message.mobile_ref_id, message.seq]));
  expect(byRef.size).toBe(stored.length);
  for (const [ref, seq] of acked) expect(byRef.get(ref), ref).toBe(seq);
}

function integrity(dataDir: string): string {
  const db = new Database(joinPath(dataDir, 'parley.db'), { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * Drives one outage: sends are refused with `code` (socket and HTTP), reads and resumes work,
 * the log stays short; `recover` ends it and the refused message goes through, without restart.
 */
async function outage(
  relay: TestRelay,
  log: LogEntry[],
  room: Room,
  acked: Map<string, number>,
  code: 'storage_full' | 'storage_read_only',
  recover: () => void,
  firstRefused: string,
): Promise<void> {
  // More refused sends, over both doors: same answer every time, no crash.
  const linesBefore = log.length;
  for (let n = 1; n <= 40; n += 1) {
    const { reply, sent } = await socketSend(room, `refused-${code}-${n}`);
    expect(reply).toBe('error');
    expect(sent).toMatchObject({ status: 'error', reason: code, seq: null, message_id: null });
  }
  const overHttp = await api<{ error: { code: string; message: string } }>(
    relay,
    room.ana.token,
    'POST',
    `/api/chats/${room.mainId}/messages`,
    { content: 'over http', mobile_ref_id: `refused-${code}-http` },
  );
  expect(overHttp.status).toBe(503);
  expect(overHttp.body.error.code).toBe(code);
  expect(overHttp.body.error.message.length).toBeGreaterThan(0);
  // Rate-limited: 41 refusals within seconds are at most a line or two (pino: warn is 40).
  const loud = log.slice(linesBefore).filter((entry) => entry.level >= 40);
  expect(loud.length, JSON.stringify(loud)).toBeLessThanOrEqual(2);
  expect(log.filter((entry) => entry.msg === 'message writes failing').at(-1)?.code).toBe(code);

  // Writes other than sends, over the socket: a read marker, acknowledging pending
  // notifications, the first join of a public room (a new membership). Each is answered with
  // the storage code; the sockets stay open; the log gets one line, not one per frame.
  const cyClient = await RawClient.connect(relay, room.cy.token, 'cy-inbox');
  cleanups.push(() => cyClient.close());
  const inbox = `notifications:${room.cy.user.id}`;
  expect((await cyClient.join(inbox)).status).toBe('ok');
  const pending = (await cyClient.waitFor((frame) => frame[3] === 'pending_notifications'))[4] as {
    notifications: { id: number }[];
  };
  const pendingIds = pending.notifications.map((notification) => notification.id);
  expect(pendingIds.length).toBeGreaterThan(0);
  const otherLinesBefore = log.length;
  const mainTopic = `chat:${room.mainId}`;
  for (let n = 1; n <= 10; n += 1) {
    const read = await room.reader.call(null, mainTopic, 'read', { seq: acked.size });
    expect(read, `read ${n}`).toMatchObject({ status: 'error', response: { reason: code } });
  }
  const ack = await cyClient.call(null, inbox, 'ack_notifications', { ids: pendingIds });
  expect(ack).toMatchObject({ status: 'error', response: { reason: code } });
  const sideJoin = await room.reader.join(`chat:${room.sideId}`);
  expect(sideJoin).toMatchObject({ status: 'error', response: { reason: code } });
  for (const client of [room.reader, cyClient]) {
    expect((await client.call(null, 'phoenix', 'heartbeat', {})).status).toBe('ok');
    expect(client.closeCode).toBeNull();
  }
  const otherLoud = log.slice(otherLinesBefore).filter((entry) => entry.level >= 40);
  expect(otherLoud.map((entry) => entry.msg)).toEqual(['socket writes failing']);
  expect(otherLoud[0]).toMatchObject({ code, writes: 1 });
  expect(log.filter((entry) => entry.msg === 'frame handler failed')).toEqual([]);

  // The relay stays up and reads work: health, history, a resuming join.
  expect((await api<{ ok: boolean }>(relay, null, 'GET', '/healthz')).body.ok).toBe(true);
  await expectAcknowledgedKept(relay, room, acked);
  const late = await RawClient.connect(relay, room.ben.token, 'ben-late');
  cleanups.push(() => late.close());
  const resumed = await late.join(`chat:${room.mainId}`, { since_seq: 0 });
  expect(resumed.status).toBe('ok');
  const resumedRefs = (resumed.response.messages as WireMessage[]).map((m) => m.mobile_ref_id);
  expect(resumedRefs).toEqual([...acked.keys()]);

  // The disk is back: the refused message (same mobile_ref_id) is stored now, once, and delivered.
  recover();
  const retried = await socketSend(room, firstRefused);
  expect(retried.reply).toBe('ok');
  expect(retried.sent).toMatchObject({ status: 'sent', seq: acked.size + 1 });
  expect(retried.sent.duplicate).toBeUndefined();
  acked.set(firstRefused, retried.sent.seq ?? 0);
  await room.reader.waitFor(
    (frame) =>
      frame[3] === 'receive_message' && (frame[4] as WireMessage).mobile_ref_id === firstRefused,
  );
  for (let n = 1; n <= 5; n += 1) {
    const { sent } = await socketSend(room, `after-${code}-${n}`);
    expect(sent.status).toBe('sent');
    acked.set(sent.mobile_ref_id, sent.seq ?? 0);
  }
  await until(
    () => log.some((entry) => entry.msg === 'message writes work again'),
    5_000,
    'the recovery log line',
  );
  // The other writes work again too, on the same sockets, and say so once.
  const read = await room.reader.call(null, mainTopic, 'read', { seq: acked.size });
  expect(read).toMatchObject({ status: 'ok', response: { read_seq: acked.size } });
  const acknowledged = await cyClient.call(null, inbox, 'ack_notifications', { ids: pendingIds });
  expect(acknowledged).toMatchObject({ status: 'ok', response: { acked: pendingIds.length } });
  expect((await room.reader.join(`chat:${room.sideId}`)).status).toBe('ok');
  const recovered = log.filter((entry) => entry.msg === 'socket writes work again');
  // 10 reads, the ack and the join were refused; the first line counted one.
  expect(recovered).toEqual([expect.objectContaining({ writes: 11 })]);
  await expectAcknowledgedKept(relay, room, acked);
}

/**
 * A logged relay on a fresh mount with a room open and 20 messages sent and acknowledged before
 * anything fails; `acked` maps each acknowledged mobile_ref_id to its seq.
 */
async function startWithAcked(
  kind: 'tmpfs' | 'ext4',
  sizeMb: number,
): Promise<{
  mount: string;
  dataDir: string;
  relay: TestRelay;
  log: LogEntry[];
  room: Room;
  acked: Map<string, number>;
}> {
  const mount = mountFresh(kind, sizeMb);
  const dataDir = joinPath(mount, 'data');
  const { relay, log } = await startLoggedRelay(dataDir);
  const room = await openRoom(relay);
  const acked = new Map<string, number>();
  for (let n = 1; n <= 20; n += 1) {
    const { sent } = await socketSend(room, `before-${n}`);
    expect(sent.status).toBe('sent');
    acked.set(sent.mobile_ref_id, sent.seq ?? 0);
  }
  return { mount, dataDir, relay, log, room, acked };
}

describe.skipIf(NO_TMPFS !== null)('storage failure (hostile, needs root to mount)', () => {
  it(
    'disk full: sends fail with storage_full, nothing acknowledged is lost, recovers when space returns',
    { timeout: 120_000 },
    async () => {
      const { mount, dataDir, relay, log, room, acked } = await startWithAcked('tmpfs', 24);

      const filler = fill(mount);
      // SQLite may still reuse space it holds (the WAL); send until the disk says no.
      let firstRefused: string | null = null;
      for (let n = 1; n <= 5_000 && firstRefused === null; n += 1) {
        const { sent } = await socketSend(room, `filling-${n}`);
        if (sent.status === 'sent') acked.set(sent.mobile_ref_id, sent.seq ?? 0);
        else {
          expect(sent).toMatchObject({ reason: 'storage_full', seq: null });
          firstRefused = sent.mobile_ref_id;
        }
      }
      if (firstRefused === null) throw new Error('the full disk never refused a send');

      await outage(relay, log, room, acked, 'storage_full', () => rmSync(filler), firstRefused);

      await relay.close();
      expect(integrity(dataDir)).toBe('ok');
    },
  );

  it.skipIf(NO_EXT4 !== null)(
    'read-only data folder while running: sends fail with storage_read_only, then recover',
    { timeout: 120_000 },
    async () => {
      const { dataDir, relay, log, room, acked } = await startWithAcked('ext4', 32);
      // The shared-memory index (-shm) stays writable: SQLite maps it, and a write fault on an
      // immutable mapping would be a SIGBUS, not an error SQLite could report.
      const locked = [dataDir, 'parley.db', 'parley.db-wal']
        .map((name) => (name === dataDir ? name : joinPath(dataDir, name)))
        .filter((path) => existsSync(path));
      run('chattr', ['+i', ...locked]);
      const refused = await socketSend(room, 'while-read-only');
      expect(refused.reply).toBe('error');
      expect(refused.sent).toMatchObject({
        status: 'error',
        reason: 'storage_read_only',
        seq: null,
      });

      await outage(
        relay,
        log,
        room,
        acked,
        'storage_read_only',
        () => run('chattr', ['-i', ...locked]),
        'while-read-only',
      );

      await relay.close();
      expect(integrity(dataDir)).toBe('ok');
    },
  );

  it(
    'refuses to start on a read-only or full data folder with one clear line and exit code 1',
    { timeout: 120_000 },
    async () => {
      // Read-only, empty; read-only with a database; full, empty.
      const empty = mountFresh('tmpfs', 4);
      run('mount', ['-o', 'remount,ro', empty]);
      const withDb = mountFresh('tmpfs', 8);
      const { relay } = await startLoggedRelay(joinPath(withDb, 'data'));
      await signIn(relay, 'Ana');
      await relay.close();
      run('mount', ['-o', 'remount,ro', withDb]);
      const full = mountFresh('tmpfs', 4);
      mkdirSync(joinPath(full, 'data'));
      fill(full);

      const cases = [
        { dataDir: empty, code: 'ERR_STORAGE_READ_ONLY' },
        { dataDir: joinPath(withDb, 'data'), code: 'ERR_STORAGE_READ_ONLY' },
        { dataDir: joinPath(full, 'data'), code: 'ERR_STORAGE_FULL' },
      ];
      for (const { dataDir, code } of cases) {
        const cli = spawnCli([...BASE_RELAY_ARGS, '--data', dataDir]);
        const exit = await cli.exited;
        expect({ dataDir, exit }).toEqual({ dataDir, exit: { code: 1, signal: null } });
        expect(cli.stderr()).toContain(code);
        expect(cli.stderr()).toContain(dataDir);
        // One line with the reason, not a stack trace.
        expect(cli.stderr().trim().split('\n')).toHaveLength(1);
        // Embedded (the desktop app): startRelay rejects with the same code.
        await expect(startTestRelay({ dataDir })).rejects.toMatchObject({ code });
      }
    },
  );
});
