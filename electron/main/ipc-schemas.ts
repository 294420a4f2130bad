/**
 * Runtime validators for the arguments of every IPC channel, written in the relay/protocol
 * style (zod, bounded strings and arrays). The main process runs them where the handlers are
 * registered (ipc-router.ts); nothing from the page reaches a service unvalidated.
 */
import { z, type ZodType } from 'zod';
import { HARD_LIMITS } from '../../relay/protocol/events.js';
import type { InvokeMap, SendMap } from '../shared/bridge.js';
import { isSettingKey } from './settings.js';

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const chatId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const scope = z.string().min(1).max(512);
const address = z.string().min(1).max(2_048);
const profileId = z.string().min(1).max(64);
const isoTime = z.string().max(40);

export const wireMessageSchema = z.strictObject({
  chat_id: chatId,
  message_id: z.string().min(1).max(64),
  seq,
  content: z.string().max(HARD_LIMITS.contentChars),
  sender_id: z.string().min(1).max(64),
  sender_name: z.string().max(HARD_LIMITS.nameChars * 4),
  timestamp: isoTime,
  expires_at: isoTime.nullable(),
  mobile_ref_id: z.string().max(HARD_LIMITS.mobileRefIdChars),
  // The event stream (issue 17): an edited message's time, a tombstone's, its latest change.
  edited_at: isoTime.nullable(),
  deleted_at: isoTime.nullable(),
  version_seq: seq,
});

export const chatSummarySchema = z.strictObject({
  id: chatId,
  kind: z.enum(['room', 'dm']),
  name: z.string().max(HARD_LIMITS.chatNameChars * 4),
  visibility: z.enum(['public', 'private']),
  ephemeral_ttl_s: z.number().int().min(1).nullable(),
  is_main: z.boolean(),
  dm_user_ids: z.array(z.string().max(64)).max(2),
  last_seq: seq,
  created_at: isoTime,
  unread_count: seq,
  read_seq: seq,
  last_message: wireMessageSchema.nullable(),
});

const storageOp = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('set'), key: z.string().min(1).max(256), value: z.string() }),
  z.strictObject({ op: z.literal('remove'), key: z.string().min(1).max(256) }),
]);

const hostingStartInput = z.strictObject({
  port: z.number().int().min(0).max(65_535),
  passcode: z.string().max(256).nullable().optional(),
  displayName: z.string().min(1).max(64),
});

const profileInput = z.strictObject({
  id: profileId.optional(),
  label: z.string().min(1).max(80),
  urls: z.array(address).min(1).max(16),
  auth: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('token'), token: z.string().min(1).max(16_384) }),
    z.strictObject({ kind: z.literal('sign-in'), displayName: z.string().min(1).max(64) }),
  ]),
});

const certRetrustInput = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535),
  // Checked again (and normalised) by CertPins.retrust; here only the shape and size.
  fingerprint: z.string().regex(/^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/),
});

const hostingInviteInput = z.strictObject({
  // Must also be one of the running room's LAN URLs: checked by hostingInvite.
  lanUrl: address.nullable().optional(),
  room: chatId.nullable().optional(),
  // A label; hostingInvite leaves out a name a link may not carry (isInviteRoomName).
  roomName: z.string().max(HARD_LIMITS.chatNameChars).nullable().optional(),
});

const none = z.tuple([]);

type InvokeSchemas = { [C in keyof InvokeMap]: ZodType<InvokeMap[C]['args']> };
type SendSchemas = { [C in keyof SendMap]: ZodType<SendMap[C]> };

export const INVOKE_SCHEMAS: InvokeSchemas = {
  'app:info': none,
  'hosting:start': z.tuple([hostingStartInput]),
  'hosting:stop': none,
  'hosting:status': none,
  'hosting:invite': z.tuple([hostingInviteInput]),
  'discovery:list': none,
  'discovery:refresh': none,
  'discovery:probe': z.tuple([address]),
  'relays:allow': z.tuple([address]),
  'relays:list': none,
  'profiles:list': none,
  'profiles:save': z.tuple([profileInput]),
  'profiles:remove': z.tuple([profileId]),
  'profiles:activate': z.tuple([profileId.nullable()]),
  'settings:get-all': none,
  'settings:set': z.tuple([
    z.string().refine(isSettingKey, { message: 'unknown setting' }),
    z.unknown(),
  ]) as unknown as ZodType<InvokeMap['settings:set']['args']>,
  'cache:load-storage': none,
  'cache:apply-storage': z.tuple([z.array(storageOp).max(1_000)]),
  'cache:load-snapshot': z.tuple([scope]),
  'cache:save-chats': z.tuple([scope, z.array(chatSummarySchema).max(2_000)]),
  'cache:save-history': z.tuple([scope, chatId, z.array(wireMessageSchema).max(500)]),
  'cache:set-read-marker': z.tuple([scope, chatId, seq]),
  'cache:clear': z.tuple([scope]),
  'shell:open-external': z.tuple([z.string().min(1).max(8_192)]),
  'deep-link:take': none,
  'tls:warnings': none,
  'tls:retrust': z.tuple([certRetrustInput]),
  'tls:pin-for': z.tuple([address]),
};

export const SEND_SCHEMAS: SendSchemas = {
  'notifications:set-badge': z.tuple([z.number().int().min(0).max(1_000_000)]),
  'notifications:flash': none,
};

/** Validates one call's arguments; the first bad one is named, like relay/protocol's validate. */
export function validateArgs<T>(
  schema: ZodType<T>,
  args: readonly unknown[],
): { ok: true; args: T } | { ok: false; message: string } {
  const parsed = schema.safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data };
  const issue = parsed.error.issues[0];
  const where =
    issue === undefined || issue.path.length === 0
      ? 'arguments'
      : `argument ${issue.path.map(String).join('.')}`;
  return { ok: false, message: `${where}: ${issue?.message ?? 'invalid'}` };
}
