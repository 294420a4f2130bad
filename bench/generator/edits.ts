/**
 * Edits and deletes (Parley only, issue 17): `members` clients joined to one room; client 0
 * posts `rate` messages/s for `seconds`, then edits each of them once at `rate` edits/s
 * (`edit_message`), then deletes the first `deletes` of them at `rate`/s (`delete_message`).
 * Each phase has its own window of relay CPU (from its first push until its last expected
 * delivery), so CPU per delivered edit (`message_edited`) and per delivered delete
 * (`message_deleted`) stand beside CPU per delivered message (`receive_message`) of the same run.
 *
 * One index space, found in frames as fan-out's marker (`bm:<index>;`): message i has index i,
 * its edit index `total + i` (the edited text carries that marker); its delete, which carries no
 * text, index `2 × total + i`, found from the frame's message_id.
 */
import type { EditsConfig, EditsPhase, EditsResult } from '../config.js';
import { EVENTS } from '../../relay/protocol/events.js';
import { cpuSeconds, systemSeconds } from '../proc-stats.js';
import { createDriver, inParallel, ParleyClient } from './clients.js';
import { markerContent, markerOf } from './marker.js';
import { percentiles, sleep, waitUntil } from './stats.js';

const PHX_REPLY = Buffer.from(`"${EVENTS.reply}"`);
const MESSAGE_SENT = Buffer.from(`"${EVENTS.messageSent}"`);
const MESSAGE_DELETED = Buffer.from(`"${EVENTS.messageDeleted}"`);
const MESSAGE_ID = Buffer.from('"message_id":"');
const QUOTE = 0x22;

type Kind = 'messages' | 'edits' | 'deletes';

/** A phase's pushes, in order: the warm-up ones first, then the measured ones. */
interface Phase {
  kind: Kind;
  /** Indexes pushed in the warm-up, then in the measured window. */
  warm: number[];
  measured: number[];
  /** Deliveries each push should get. */
  perPush: number;
}

/** The message_id in a frame (a `message_deleted` push), without parsing the JSON. */
function messageIdOf(frame: Buffer): string | null {
  const at = frame.indexOf(MESSAGE_ID);
  if (at === -1) return null;
  const from = at + MESSAGE_ID.length;
  const end = frame.indexOf(QUOTE, from);
  return end === -1 ? null : frame.toString('latin1', from, end);
}

export async function runEdits(
  config: EditsConfig,
  progress: (message: string) => void,
): Promise<EditsResult> {
  const { target, members, rate } = config;
  if (target.protocol !== 'parley') throw new Error(`${target.peer} has no message edits`);
  if (members < 2) throw new Error('the edits scenario needs at least 2 members');
  const driver = createDriver(target.protocol, target.httpUrl);
  const [room] = await driver.prepare(members, 1);
  if (room === undefined) throw new Error('no room');
  const clients: ParleyClient[] = [];
  await inParallel(members, 64, async (i) => {
    const client = await driver.connect(i, target.nodes[i % target.nodes.length] ?? '', room);
    if (!(client instanceof ParleyClient)) throw new Error('not a Parley client');
    clients[i] = client;
  });
  progress(`${members} joined`);
  const sender = clients[0] as ParleyClient;

  const warm = Math.max(1, Math.round(rate * config.warmupSeconds));
  const measured = Math.round(rate * config.seconds);
  const total = warm + measured;
  const warmDeletes = Math.max(1, Math.round(warm / 4));
  const deletes = Math.min(config.deletes, measured);
  const range = (from: number, to: number): number[] =>
    Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const phases: Phase[] = [
    { kind: 'messages', warm: range(0, warm), measured: range(warm, total), perPush: members - 1 },
    {
      kind: 'edits',
      warm: range(total, total + warm),
      measured: range(total + warm, 2 * total),
      perPush: members,
    },
    {
      kind: 'deletes',
      warm: range(2 * total, 2 * total + warmDeletes),
      measured: range(2 * total + warm, 2 * total + warm + deletes),
      perPush: members,
    },
  ];

  const indexes = 3 * total;
  const sentAt = new Float64Array(indexes);
  const words = Math.ceil(indexes / 32);
  // Which pushes each client has had, one bit each: a repeat is a duplicate, never a delivery.
  const seen = new Uint32Array(words * members);
  const received = new Uint32Array(indexes);
  let duplicates = 0;
  // Latencies of the measured window of the phase under way.
  let latencies = new Float64Array(0);
  let samples = 0;
  let lastDeliveryAt = 0;
  /** Message ids by message index, from the sender's `message_sent`; and back. */
  const messageIds: string[] = [];
  const indexById = new Map<string, number>();
  let changeErrors = 0;
  let firstError = '';
  let closed = 0;
  let measuring: { from: number; to: number } = { from: 0, to: 0 };

  const deliver = (clientIndex: number, index: number): void => {
    if (index < 0 || index >= indexes) return;
    const word = clientIndex * words + (index >>> 5);
    const bit = 1 << (index & 31);
    const inWindow = index >= measuring.from && index < measuring.to;
    if (((seen[word] as number) & bit) !== 0) {
      if (inWindow) duplicates += 1;
      return;
    }
    seen[word] = (seen[word] as number) | bit;
    received[index] = (received[index] as number) + 1;
    if (!inWindow) return;
    const now = performance.now();
    lastDeliveryAt = now;
    if (samples < latencies.length) {
      latencies[samples] = now - (sentAt[index] as number);
      samples += 1;
    }
  };

  /** The sender's replies and acks: message ids, and refusals of edits and deletes. */
  const senderFrame = (frame: Buffer): void => {
    if (frame.indexOf(PHX_REPLY) !== -1) {
      // Replies to send_message carry no marker; to an edit, the edited text's marker; to a
      // delete, the tombstone. Only refusals matter here (deliveries are counted by the pushes).
      const parsed = JSON.parse(frame.toString()) as [
        unknown,
        unknown,
        string,
        string,
        { status?: string; response?: { reason?: string } },
      ];
      if (parsed[4].status !== 'ok') {
        changeErrors += 1;
        firstError ||= parsed[4].response?.reason ?? JSON.stringify(parsed[4]);
      }
      return;
    }
    if (frame.indexOf(MESSAGE_SENT) !== -1) {
      const sent = (
        JSON.parse(frame.toString()) as [
          unknown,
          unknown,
          string,
          string,
          { status?: string; mobile_ref_id?: string; message_id?: string | null },
        ]
      )[4];
      const index = Number((sent.mobile_ref_id ?? '').slice(1));
      if (sent.status !== 'sent' || typeof sent.message_id !== 'string') {
        changeErrors += 1;
        firstError ||= `send of message ${index} refused`;
        return;
      }
      messageIds[index] = sent.message_id;
      indexById.set(sent.message_id, index);
      return;
    }
    receiverFrame(0, frame);
  };
  const receiverFrame = (clientIndex: number, frame: Buffer): void => {
    const index = markerOf(frame);
    if (index !== -1) {
      // receive_message of message `index`, or message_edited of edit `index`.
      deliver(clientIndex, index);
      return;
    }
    if (frame.indexOf(MESSAGE_DELETED) === -1) return;
    const id = messageIdOf(frame);
    const message = id === null ? undefined : indexById.get(id);
    if (message !== undefined) deliver(clientIndex, 2 * total + message);
  };
  clients.forEach((client, clientIndex) => {
    client.onFrame = clientIndex === 0 ? senderFrame : (frame) => receiverFrame(clientIndex, frame);
    client.onClose = () => {
      closed += 1;
    };
  });

  const push = (index: number): void => {
    if (index < total) {
      sender.send(index, ' hello');
    } else if (index < 2 * total) {
      const message = index - total;
      sender.push(EVENTS.editMessage, {
        message_id: messageIds[message] ?? '',
        content: `${markerContent(index)} edited`,
        ref_id: `e${message}`,
      });
    } else {
      sender.push(EVENTS.deleteMessage, { message_id: messageIds[index - 2 * total] ?? '' });
    }
  };
  async function pushAll(list: readonly number[]): Promise<void> {
    const started = performance.now();
    for (let i = 0; i < list.length;) {
      const due = started + (i * 1000) / rate;
      const now = performance.now();
      if (due > now) {
        await sleep(Math.max(1, due - now));
        continue;
      }
      const index = list[i] as number;
      sentAt[index] = now;
      push(index);
      i += 1;
    }
  }
  const delivered = (list: readonly number[], perPush: number): number =>
    list.reduce((sum, index) => sum + Math.min(perPush, received[index] as number), 0);
  const failIfRefused = (what: string): void => {
    if (changeErrors > 0) {
      throw new Error(`the relay refused ${what}: ${firstError} (a relay without edits?)`);
    }
  };

  const results = new Map<Kind, EditsPhase>();
  const pids = target.serverPids;
  for (const phase of phases) {
    // Warm-up (JIT, buffers, statements), delivered and then ignored.
    measuring = { from: 0, to: 0 };
    await pushAll(phase.warm);
    await waitUntil(
      () =>
        changeErrors > 0 ||
        delivered(phase.warm, phase.perPush) >= phase.warm.length * phase.perPush,
      Math.max(5_000, config.drainMs),
    );
    failIfRefused(`the warm-up ${phase.kind}`);
    await sleep(200);

    const expected = phase.measured.length * phase.perPush;
    measuring = {
      from: phase.measured[0] ?? 0,
      to: (phase.measured[phase.measured.length - 1] ?? -1) + 1,
    };
    latencies = new Float64Array(expected);
    samples = 0;
    duplicates = 0;
    const cpu0 = cpuSeconds(pids);
    const system0 = systemSeconds(pids);
    const gen0 = process.cpuUsage();
    const start = performance.now();
    await pushAll(phase.measured);
    await waitUntil(
      () => changeErrors > 0 || delivered(phase.measured, phase.perPush) >= expected,
      config.drainMs,
    );
    const count = delivered(phase.measured, phase.perPush);
    const end = count >= expected ? lastDeliveryAt : performance.now();
    const serverCpuS = cpuSeconds(pids) - cpu0;
    const serverSystemS = systemSeconds(pids) - system0;
    const gen = process.cpuUsage(gen0);
    failIfRefused(phase.kind);
    results.set(phase.kind, {
      count: phase.measured.length,
      expectedDeliveries: expected,
      deliveries: count,
      lost: expected - count,
      duplicates,
      latency: percentiles(latencies, samples),
      serverCpuS,
      cpuPerDeliveryUs: count === 0 ? NaN : (serverCpuS / count) * 1e6,
      kernelCpuShare: serverCpuS === 0 ? NaN : serverSystemS / serverCpuS,
      generatorCpuShare: (gen.user + gen.system) / 1e6 / Math.max(0.001, (end - start) / 1000),
    });
    if (phase.kind === 'messages') {
      // Edits need every message's id, from the sender's message_sent.
      const ids = await waitUntil(() => messageIds.filter(Boolean).length >= total, 10_000);
      if (!ids)
        throw new Error(`only ${messageIds.filter(Boolean).length} of ${total} message ids`);
    }
    progress(`${phase.kind}: ${count} of ${expected} delivered`);
  }

  for (const client of clients) client.close();
  driver.stop();
  const phase = (kind: Kind): EditsPhase => {
    const found = results.get(kind);
    if (found === undefined) throw new Error(`no ${kind} phase`);
    return found;
  };
  return {
    kind: 'edits',
    members,
    rate,
    messages: phase('messages'),
    edits: phase('edits'),
    deletes: phase('deletes'),
    changeErrors,
    closedConnections: closed,
  };
}
