/**
 * Presence churn (issue 15, item 8: "presence churn is amplified to every
 * member"). One user holds the 32 connections a user may hold, each joining and leaving the main
 * room over and over, inside every frame limit, against the real command-line relay. A passive
 * member of the room counts the presence bytes it is sent: they stay bounded per second and per
 * frame, the member is never cut off as a slow consumer (4001), and the presence its `phoenix`
 * Presence shows (built from the same frames) is right once the churn stops.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { Presence } from 'phoenix';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../cli/cli-args.js';
import { DEFAULT_LIMITS } from '../core/options.js';
import type { PresenceDiff, PresenceMeta, PresenceState } from '../protocol/events.js';
import { mainChatId, removeDir, signIn, until, type Session } from '../testing/relay-harness.js';
import {
  killAllRelayProcesses,
  startRelayProcess,
  type RelayProcess,
} from '../testing/relay-process.js';

/** How long the attacker churns. */
const CHURN_MS = 6_000;
/** Join/leave cycles per second per connection: 100 frames a second, half of framesPerSecond. */
const CYCLES_PER_S = 50;
/** The largest presence meta an attacker can cause: the longest device id and display name. */
const LONG_DEVICE = 'd'.repeat(128);
const LONG_NAME = `Churner ${'x'.repeat(56)}`;
/**
 * What a passive member may be sent per second while one user churns (bytes), and in one frame.
 * Before the fix: 0.17–0.28 MB/s, single diffs of about 480 KB.
 */
const MAX_BYTES_PER_S = 48 * 1024;
const MAX_FRAME_BYTES = 24 * 1024;

/** A WebSocket speaking Phoenix frames, answering replies by ref; cheap enough to churn with. */
class Churner {
  readonly ws: WebSocket;
  readonly #waiting = new Map<string, (payload: { status: string }) => void>();
  #ref = 0;
  closeCode: number | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as [
        string | null,
        string | null,
        string,
        string,
        { status: string },
      ];
      const resolve =
        frame[3] === 'phx_reply' && frame[1] !== null ? this.#waiting.get(frame[1]) : undefined;
      if (resolve !== undefined && frame[1] !== null) {
        this.#waiting.delete(frame[1]);
        resolve(frame[4]);
      }
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined);
  }

  static async open(relay: RelayProcess, token: string, device: string): Promise<Churner> {
    const query = new URLSearchParams({ token, device_unique_id: device, vsn: '2.0.0' });
    const ws = new WebSocket(`${relay.socketUrl}/websocket?${query.toString()}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Churner(ws);
  }

  /** Sends a frame and resolves with its reply's status. */
  call(joinRef: string | null, topic: string, event: string): Promise<string> {
    this.#ref += 1;
    const ref = String(this.#ref);
    const frame = [event === 'phx_join' ? ref : joinRef, ref, topic, event, {}];
    return new Promise((resolve) => {
      this.#waiting.set(ref, (payload) => resolve(payload.status));
      this.ws.send(JSON.stringify(frame));
    }).then((status) => String(status)) as Promise<string>;
  }

  /** Joins `topic`, resolving with the join_ref (the reply's ref) once it is answered ok. */
  async join(topic: string): Promise<string> {
    const joinRef = String(this.#ref + 1);
    const status = await this.call(null, topic, 'phx_join');
    if (status !== 'ok') throw new Error(`join answered ${status}`);
    return joinRef;
  }

  async leave(topic: string, joinRef: string): Promise<void> {
    const status = await this.call(joinRef, topic, 'phx_leave');
    if (status !== 'ok') throw new Error(`leave answered ${status}`);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A passive member: one socket joined to the room, counting every presence frame it is sent. */
class Watcher {
  readonly ws: WebSocket;
  /** [arrival ms, bytes] of every presence_diff. */
  readonly diffs: [number, number][] = [];
  state: PresenceState = {};
  closeCode: number | null = null;

  constructor(ws: WebSocket, topic: string) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as [unknown, unknown, string, string, unknown];
      if (frame[2] !== topic) return;
      if (frame[3] === 'presence_diff') {
        this.diffs.push([performance.now(), data.length]);
        this.state = Presence.syncDiff(this.state, frame[4] as PresenceDiff) as PresenceState;
      } else if (frame[3] === 'presence_state') {
        this.state = Presence.syncState(this.state, frame[4] as PresenceState) as PresenceState;
      }
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined);
  }

  static async join(relay: RelayProcess, token: string, topic: string): Promise<Watcher> {
    const query = new URLSearchParams({ token, device_unique_id: 'watcher', vsn: '2.0.0' });
    const ws = new WebSocket(`${relay.socketUrl}/websocket?${query.toString()}`);
    const watcher = new Watcher(ws, topic);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
    await until(() => Object.keys(watcher.state).length > 0, 5_000, 'the watcher to see presence');
    return watcher;
  }

  /** user id → number of devices listed, as a phoenix client shows it. */
  listed(): Record<string, number> {
    return Object.fromEntries(
      Presence.list(this.state, (id: string, presence: { metas: PresenceMeta[] }) => [
        id,
        presence.metas.length,
      ]) as [string, number][],
    );
  }

  close(): void {
    this.ws.close();
  }
}

describe('presence churn by one user (real CLI relay)', () => {
  let relay: RelayProcess;
  let dataDir: string;
  let attacker: Session;
  let member: Session;
  let topic: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(joinPath(tmpdir(), 'parley-presence-churn-'));
    relay = await startRelayProcess([
      '--data',
      dataDir,
      '--durability',
      'normal',
      ...(USAGE.includes('--no-mdns') ? ['--no-mdns'] : []),
    ]);
    attacker = await signIn(relay, LONG_NAME, { device: LONG_DEVICE });
    member = await signIn(relay, 'Passive');
    topic = `chat:${await mainChatId(relay, member.token)}`;
  });

  afterAll(async () => {
    await killAllRelayProcesses();
    removeDir(dataDir);
  });

  it('sends a passive member bounded presence, never 4001, and the right presence after', async () => {
    const watcher = await Watcher.join(relay, member.token, topic);
    const churners = await Promise.all(
      Array.from({ length: DEFAULT_LIMITS.maxConnectionsPerUser }, () =>
        Churner.open(relay, attacker.token, LONG_DEVICE),
      ),
    );
    const started = performance.now();
    const diffsBefore = watcher.diffs.length;
    let cycles = 0;
    await Promise.all(
      churners.map(async (churner) => {
        while (performance.now() - started < CHURN_MS) {
          const cycleStart = performance.now();
          const joinRef = await churner.join(topic);
          await churner.leave(topic, joinRef);
          cycles += 1;
          const pause = 1_000 / CYCLES_PER_S - (performance.now() - cycleStart);
          if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1_000;
    // Whatever the last window of the churn holds arrives within a few windows.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const during = watcher.diffs.slice(diffsBefore);
    const bytes = during.reduce((sum, [, size]) => sum + size, 0);
    const largest = Math.max(0, ...during.map(([, size]) => size));
    const perSecond = bytes / (elapsedS + 2.5);
    console.log(
      `presence churn: ${cycles} join/leave cycles by ${churners.length} connections in ` +
        `${elapsedS.toFixed(1)} s; the passive member got ${during.length} presence_diff frames, ` +
        `${(bytes / 1e6).toFixed(3)} MB = ${(perSecond / 1e6).toFixed(4)} MB/s, ` +
        `largest ${(largest / 1024).toFixed(1)} KiB`,
    );
    expect(cycles).toBeGreaterThan(churners.length * 10);
    expect(churners.every((churner) => churner.closeCode === null)).toBe(true);
    expect(watcher.closeCode).toBeNull();
    expect(largest).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(perSecond).toBeLessThanOrEqual(MAX_BYTES_PER_S);

    // Presence is still right: the attacker is listed while connections are joined (with at
    // most as many devices as it holds), and gone once they leave.
    const joined = await Promise.all(churners.map((churner) => churner.join(topic)));
    expect(joined).toHaveLength(churners.length);
    await until(() => (watcher.listed()[attacker.user.id] ?? 0) > 0, 5_000, 'attacker listed');
    const fresh = await Watcher.join(relay, member.token, topic);
    await until(
      () => JSON.stringify(watcher.listed()) === JSON.stringify(fresh.listed()),
      5_000,
      'the watcher to agree with a fresh presence_state',
    );
    const listed = watcher.listed();
    console.log(`presence with 32 connections joined: ${JSON.stringify(Object.values(listed))}`);
    expect(listed[attacker.user.id]).toBeLessThanOrEqual(churners.length);
    expect(listed[member.user.id]).toBe(2);
    fresh.close();
    await Promise.all(churners.map((churner) => churner.close()));
    await until(
      () => JSON.stringify(watcher.listed()) === JSON.stringify({ [member.user.id]: 1 }),
      5_000,
      'the attacker to be gone and only the watcher listed',
    );
    expect(watcher.closeCode).toBeNull();
    watcher.close();
  }, 60_000);
});
