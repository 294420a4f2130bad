/**
 * HTTP clients that never read, against the real command-line relay (a child process) whose
 * memory is read from /proc/<pid>/status. A signed-in user fills their own room with 500
 * messages of 8,000 control characters (each about 48 KB once JSON-escaped), then asks for the
 * biggest history pages there are, pipelined 100 deep on 3 connections and on 60 more, and
 * reads none of the answers. Before relay/http/http-output.ts and byte-bounded pages the relay built
 * every answer at once (24 MB each) and held them: RSS passed 4 GB and the process died.
 *
 * Asserted: a history page is at most maxPageBytes of messages, and paging still returns every
 * message once; the relay's RSS grows by less than HTTP_FLOOD_BOUND_MB; every offending
 * connection is closed by the relay (the over-pipelined ones at once, the others once their
 * output stalled for HTTP_WRITE_STALL_MS); a canary keeps chatting throughout, loses nothing,
 * and its round-trip latency is printed.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket as NetSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_WRITE_STALL_MS, MAX_PIPELINED_REQUESTS } from './http-output.js';
import { DEFAULT_LIMITS } from '../core/options.js';
import type { WireMessage } from '../protocol/events.js';
import { Canary } from '../testing/canary.js';
import { memoryOf, resetPeak } from '../testing/process-memory.js';
import {
  api,
  createRoom,
  postMessages,
  signIn,
  until,
  type Session,
} from '../testing/relay-harness.js';
import {
  FAST_SEEDING_ARGS,
  startRelayProcessOnTempData,
  stopRelayProcess,
  type RelayProcess,
  type TempDataRelayProcess,
} from '../testing/relay-process.js';

/**
 * The relay's RSS may grow by less than this while 63 connections never read (stated in
 * SECURITY.md and PROTOCOL.md): each holds at most one answer of about maxPageBytes (1 MiB).
 */
const HTTP_FLOOD_BOUND_MB = 160;
/** What the relay answers within, under load on a shared machine; never a speed claim. */
const PATIENCE_MS = 20_000;
const MESSAGES = 500;
/** Offenders' source addresses (loopback); the canary and the set-up use 127.0.0.1. */
const FROM = { pipelined: '127.0.0.21', nonReading: '127.0.0.22' } as const;

/** `a.b.c.d:port` as /proc/net/tcp writes it (little-endian hex address, hex port). */
function procAddress(address: string, port: number | null): string {
  const hex = address
    .split('.')
    .map((part) => Number(part).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  return port === null ? `${hex}:` : `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * The relay's end of TCP connections from `from` that are still ESTABLISHED (state 01). A
 * connection the relay closed leaves that state at once, whether or not the peer reads.
 */
function relayConnectionsFrom(relay: RelayProcess, from: string): number {
  const local = procAddress('127.0.0.1', relay.port);
  const remote = procAddress(from, null);
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1] === local && cols[2]?.startsWith(remote) && cols[3] === '01').length;
}

function historyRequest(token: string, chatId: string): string {
  return [
    `GET /api/chats/${chatId}/messages?after_seq=0&limit=500 HTTP/1.1`,
    'Host: relay',
    `Authorization: Bearer ${token}`,
    '',
    '',
  ].join('\r\n');
}

interface Offender {
  socket: NetSocket;
  /** True once the socket errored or closed on our side. */
  ended: boolean;
}

/** A TCP connection from `from` that writes `requests` at once and never reads. */
function offend(relay: RelayProcess, from: string, requests: string): Promise<Offender> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: relay.port, localAddress: from });
    const offender: Offender = { socket, ended: false };
    socket.on('error', () => (offender.ended = true));
    socket.on('close', () => (offender.ended = true));
    socket.once('connect', () => {
      socket.pause();
      socket.write(requests);
      resolve(offender);
    });
    socket.once('error', reject);
  });
}

/** CPU seconds (user + system) the process used so far, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

describe('HTTP clients that never read, against a relay process', () => {
  let relay: TempDataRelayProcess;
  let canary: Canary;
  let owner: Session;
  let roomId: string;

  beforeAll(async () => {
    relay = await startRelayProcessOnTempData('http-output', FAST_SEEDING_ARGS);
    canary = await Canary.start(relay, { timeoutMs: PATIENCE_MS });
    owner = await signIn(relay, 'Hoarder');
    roomId = await createRoom(relay, owner.token, 'hoard', 'private');
    const content = (n: number): string => `${n} `.padEnd(DEFAULT_LIMITS.maxMessageChars, '\u0001');
    await postMessages(relay, owner.token, roomId, MESSAGES, (n) => ({
      content: content(n),
      mobile_ref_id: `hoard-${n}`,
    }));
  }, 120_000);

  afterAll(async () => {
    try {
      await canary.verify();
      canary.stop();
      expect(relay.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
    } finally {
      await stopRelayProcess(relay);
    }
  }, 60_000);

  it('history pages stop at maxPageBytes of messages and say has_more; paging returns every message once', async () => {
    const url = `${relay.url}/api/chats/${roomId}/messages?after_seq=0&limit=500`;
    const first = await fetch(url, { headers: { authorization: `Bearer ${owner.token}` } });
    const text = await first.text();
    const page = JSON.parse(text) as { messages: WireMessage[]; has_more: boolean };
    const perMessage = Buffer.byteLength(JSON.stringify(page.messages[0]));
    console.info(
      `[http-output] first page: ${page.messages.length} of ${MESSAGES} messages, ${(text.length / 1024).toFixed(0)} KiB (${(perMessage / 1024).toFixed(1)} KiB each; all ${MESSAGES} would be ${((perMessage * MESSAGES) / 1024 / 1024).toFixed(1)} MiB)`,
    );
    expect(first.status).toBe(200);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxPageBytes + 1024);
    expect(page.has_more).toBe(true);
    expect(page.messages.length).toBeGreaterThan(0);

    const seqs: number[] = [];
    for (let more = true; more;) {
      const next = await api<{ messages: WireMessage[]; has_more: boolean }>(
        relay,
        owner.token,
        'GET',
        `/api/chats/${roomId}/messages?limit=500&after_seq=${seqs.at(-1) ?? 0}`,
      );
      expect(next.status).toBe(200);
      seqs.push(...next.body.messages.map((message) => message.seq));
      more = next.body.has_more;
    }
    expect(seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    // Older pages (before_seq) are bounded the same way, newest first.
    const older = await api<{ messages: WireMessage[]; has_more: boolean }>(
      relay,
      owner.token,
      'GET',
      `/api/chats/${roomId}/messages?limit=500`,
    );
    expect(older.body.has_more).toBe(true);
    expect(older.body.messages.at(-1)?.seq).toBe(MESSAGES);
    expect(Buffer.byteLength(JSON.stringify(older.body))).toBeLessThanOrEqual(
      DEFAULT_LIMITS.maxPageBytes + 1024,
    );
  }, 60_000);

  it('100 pipelined history requests on 3 connections and 4 on 60 more, none read: RSS bounded, all cut off, the canary chats on', async () => {
    const before = memoryOf(relay.pid);
    const cpuBefore = cpuSecondsOf(relay.pid);
    resetPeak(relay.pid);
    const request = historyRequest(owner.token, roomId);
    // The canary's round trips (send, acknowledgement, delivery to the other user), timed.
    const latencies: number[] = [];
    let chatting = true;
    const canaryLoop = (async () => {
      while (chatting) {
        const started = performance.now();
        await canary.check();
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // The memory is watched all along; past the bound the attack is called off (the assertion
    // below then fails) before it can take the machine down with it.
    let peakGrowthSeen = 0;
    const watch = setInterval(() => {
      const growth = memoryOf(relay.pid).rssMb - before.rssMb;
      peakGrowthSeen = Math.max(peakGrowthSeen, growth);
      if (growth > HTTP_FLOOD_BOUND_MB) for (const o of offenders) o.socket.destroy();
    }, 50);
    const offenders: Offender[] = [];
    const started = Date.now();
    try {
      for (let i = 0; i < 3; i += 1)
        offenders.push(await offend(relay, FROM.pipelined, request.repeat(100)));
      for (let i = 0; i < 60; i += 1)
        offenders.push(await offend(relay, FROM.nonReading, request.repeat(4)));
      // Pipelined beyond MAX_PIPELINED_REQUESTS: closed as soon as the requests are parsed.
      await until(
        () =>
          relayConnectionsFrom(relay, FROM.pipelined) === 0 || peakGrowthSeen > HTTP_FLOOD_BOUND_MB,
        PATIENCE_MS,
        'the relay to close the over-pipelined connections',
      );
      const pipelinedClosedMs = Date.now() - started;
      // The others got what the kernel would take, then stalled: closed after the stall timeout.
      await until(
        () =>
          relayConnectionsFrom(relay, FROM.nonReading) === 0 ||
          peakGrowthSeen > HTTP_FLOOD_BOUND_MB,
        HTTP_WRITE_STALL_MS + 3 * PATIENCE_MS,
        'the relay to close the connections that never read',
      );
      const allClosedMs = Date.now() - started;
      chatting = false;
      await canaryLoop;
      await canary.check();
      const peakGrowth = Math.max(peakGrowthSeen, memoryOf(relay.pid).peakMb - before.rssMb);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.info(
        `[http-output] ${offenders.length} connections, ${3 * 100 + 60 * 4} history pages asked for and never read: RSS before ${before.rssMb.toFixed(1)} MB, peak +${peakGrowth.toFixed(1)} MB (bound ${HTTP_FLOOD_BOUND_MB} MB), after +${(memoryOf(relay.pid).rssMb - before.rssMb).toFixed(1)} MB; over-pipelined closed after ${pipelinedClosedMs} ms, all closed after ${allClosedMs} ms (relay CPU ${(cpuSecondsOf(relay.pid) - cpuBefore).toFixed(1)} s); canary ${latencies.length} round trips, p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p95 ${percentile(sorted, 0.95).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
      );
      expect(peakGrowth, 'peak RSS growth (MB)').toBeLessThan(HTTP_FLOOD_BOUND_MB);
      expect(relayConnectionsFrom(relay, FROM.pipelined)).toBe(0);
      expect(relayConnectionsFrom(relay, FROM.nonReading)).toBe(0);
      expect(latencies.length).toBeGreaterThan(0);
      expect(MAX_PIPELINED_REQUESTS).toBeLessThan(100);
    } finally {
      chatting = false;
      clearInterval(watch);
      console.info(
        `[http-output] RSS growth seen during the attack: peak +${peakGrowthSeen.toFixed(1)} MB; relay ${relay.child.exitCode === null && relay.child.signalCode === null ? 'running' : 'exited'}`,
      );
      for (const offender of offenders) offender.socket.destroy();
      await canaryLoop.catch(() => undefined);
    }
    // Still serving, to a client that reads.
    const health = await fetch(`${relay.url}/healthz`);
    expect(health.status).toBe(200);
    expect(relay.child.exitCode).toBeNull();
  }, 120_000);
});
