/**
 * What relay nodes say to each other over Redis, with runtime validators: a node never trusts
 * a payload it did not produce. Every envelope carries its node's id, boot id (one per process
 * start) and a per-node counter that grows by exactly 1 per envelope, so a receiver that sees a
 * jump knows it missed something from that node (the same idea as a chat's seq).
 */
import { z } from 'zod';
import type { BusEvent } from '../core/bus.js';

const text = z.string().max(200_000);
const shortId = z.string().min(1).max(128);

const seq = z.number().int().min(0);
const time = z.string().max(64);

const wireMessage = z
  .object({
    chat_id: shortId,
    message_id: shortId,
    seq,
    content: text,
    sender_id: shortId,
    sender_name: z.string().max(256),
    timestamp: time,
    expires_at: time.nullable(),
    mobile_ref_id: z.string().max(256),
    // Absent from nodes of an older version during a rolling upgrade: an unchanged message.
    edited_at: time.nullable().default(null),
    deleted_at: time.nullable().default(null),
    version_seq: seq.optional(),
  })
  .transform(({ version_seq, ...message }) => ({
    ...message,
    version_seq: version_seq ?? message.seq,
  }));

const eventBase = {
  chat_id: shortId,
  seq: seq.min(1),
  message_id: shortId,
  message_seq: seq.min(1),
  sender_id: shortId,
};

const chatEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_edited'), ...eventBase, content: text, edited_at: time }),
  z.object({
    type: z.literal('message_deleted'),
    ...eventBase,
    deleted_by: shortId,
    deleted_at: time,
  }),
]);

export const busEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    message: wireMessage,
    originConnectionId: shortId.nullable(),
  }),
  z.object({
    type: z.literal('change'),
    event: chatEvent,
    originConnectionId: shortId.nullable(),
  }),
  z.object({ type: z.literal('typing'), chatId: shortId, userIds: z.array(shortId).max(10_000) }),
  z.object({
    type: z.literal('membership'),
    chatId: shortId,
    // Absent from nodes of an older version during a rolling upgrade.
    addedUserIds: z.array(shortId).max(10_000).default([]),
    removedUserIds: z.array(shortId).max(10_000),
  }),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AssertTrue<T extends true> = T;
/** Fails to compile when the validator and the Bus contract drift apart. */
export type BusEventSchemaMatches = AssertTrue<Same<z.infer<typeof busEventSchema>, BusEvent>>;

const presenceMeta = z.object({
  phx_ref: shortId.max(256),
  device_unique_id: z.string().max(256),
  name: z.string().max(256),
  online_at: z.string().max(64),
});

/** One change of a node's shared state. */
export const stateOpSchema = z.discriminatedUnion('op', [
  /** The user has (on) or no longer has (off) a subscription to the topic on that node. */
  z.object({ op: z.literal('sub'), topic: shortId.max(256), userId: shortId, on: z.boolean() }),
  /** One joined device in a chat's Phoenix Presence. */
  z.object({
    op: z.literal('presence'),
    topic: shortId.max(256),
    userId: shortId,
    meta: presenceMeta,
    on: z.boolean(),
  }),
  /** The users typing in a chat on that node (the whole set; empty when nobody is). */
  z.object({ op: z.literal('typing'), chatId: shortId, userIds: z.array(shortId).max(10_000) }),
]);
export type StateOp = z.infer<typeof stateOpSchema>;

/** A node's whole shared state, sent when a peer asks for it. */
export const snapshotSchema = z.object({
  subs: z.array(z.tuple([shortId.max(256), z.array(shortId)])),
  presence: z.array(
    z.tuple([shortId.max(256), z.array(z.object({ userId: shortId, meta: presenceMeta }))]),
  ),
  typing: z.array(z.tuple([shortId, z.array(shortId)])),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const controlSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('heartbeat') }),
  /** Please publish your snapshot (all nodes when `targets` is null). */
  z.object({ type: z.literal('sync_request'), targets: z.array(shortId).max(1_000).nullable() }),
  z.object({ type: z.literal('snapshot'), state: snapshotSchema }),
  z.object({ type: z.literal('ops'), ops: z.array(stateOpSchema).max(100_000) }),
  /** The node is shutting down cleanly: forget its state now rather than at expiry. */
  z.object({ type: z.literal('bye') }),
]);
export type ControlMessage = z.infer<typeof controlSchema>;

export const envelopeSchema = z.object({
  v: z.literal(1),
  /** Node id. */
  n: shortId,
  /** Boot id: changes when the node restarts, so its counter may start again at 1. */
  b: shortId,
  /** Per-node counter, +1 per envelope. */
  s: z.number().int().min(1),
  /** Publish time (ms since epoch), for the bus-lag metric. */
  t: z.number(),
  e: busEventSchema.optional(),
  c: controlSchema.optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;
