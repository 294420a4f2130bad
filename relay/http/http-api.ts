/**
 * The JSON HTTP API (`Authorization: Bearer <token>`), documented in relay/PROTOCOL.md.
 * Sends over HTTP go through the same pipeline as the socket (seed 000 posts messages this way).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { failure, type Failure } from '../protocol/errors.js';
import {
  addMemberRequest,
  createChatRequest,
  dmRequest,
  editMessageRequest,
  historyQuery,
  searchQuery,
  readPayload,
  sendMessagePayload,
  type HistoryPage,
  type MessageChanged,
  type MessageSent,
} from '../protocol/events.js';
import { isDisplayName, normalizeName } from '../protocol/display-name.js';
import { formatCode, signInRequest } from '../protocol/sign-in-codes.js';
import { validate } from '../protocol/validate.js';
import type { Auth } from '../identity/auth.js';
import type { ChatService } from '../core/chat-service.js';
import {
  HTTP_STATUS,
  bearerToken,
  isApiPath,
  readJsonBody,
  requestUrl,
  sendError,
  sendJson,
} from './http-util.js';
import { newId } from '../core/ids.js';
import type { RelayLimits } from '../core/options.js';
import { SignInGuard, type PasscodeGate, type SignInVerdict } from '../identity/passcode.js';
import { PasscodeBudget } from '../identity/passcode-budget.js';
import { SignInCodes, newRecoveryCode } from '../identity/sign-in-codes.js';
import { databaseUnavailable, storageOrDatabaseFailure } from '../core/storage-errors.js';
import type { ChangeResult, Store, StoredUser } from '../core/store.js';
import { KeyedBuckets } from '../core/token-bucket.js';
import { limitKey } from '../core/trust-proxy.js';

export interface HttpApiDeps {
  store: Store;
  auth: Auth;
  service: ChatService;
  passcode: PasscodeGate;
  limits: RelayLimits;
  logger: Logger;
  version: string;
  /** Readiness beyond "the process answers" (database reachable, and in a cluster the bus). */
  ready: () => Promise<boolean>;
  /** The client's address: the TCP peer, or behind a trusted proxy its forwarded client. */
  clientAddress: (req: IncomingMessage) => string;
  /** A user signed out everywhere: close this node's sockets of their older tokens. */
  tokensRevoked?: (userId: string, generation: number) => number;
}

interface RouteContext {
  req: IncomingMessage;
  params: string[];
  url: URL;
  body: () => Promise<{ ok: true; body: unknown } | Failure>;
  user: () => Promise<{ ok: true; user: StoredUser } | Failure>;
}

type Answer = { status?: number; body: unknown; headers?: Record<string, string> } | Failure;
type Handler = (ctx: RouteContext) => Promise<Answer>;

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

const ID = '([A-Za-z0-9_-]{1,64})';
/** New recovery or device-link codes one user may ask for per minute. */
const CODE_REQUESTS_PER_MINUTE = 10;

/** 429 with `Retry-After` (whole seconds), the wait also in the message. */
function rateLimited(retryAfterMs: number, message: string): Answer {
  const retryAfterS = Math.ceil(retryAfterMs / 1000);
  return {
    status: HTTP_STATUS.rate_limited,
    headers: { 'Retry-After': String(retryAfterS) },
    body: { error: { code: 'rate_limited', message: `${message} ${retryAfterS} s` } },
  };
}

function isFailure(answer: Answer): answer is Failure {
  return 'ok' in answer && answer.ok === false;
}

/** The answer to PATCH / DELETE of a message: `MessageChanged`, or the coded failure. */
function changeAnswer(result: ChangeResult): Answer {
  if (!result.ok) return result;
  const changed: MessageChanged = {
    message: result.message,
    event: result.event,
    duplicate: result.duplicate,
  };
  return { body: changed };
}

export function createHttpApi(
  deps: HttpApiDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const { store, auth, service, limits } = deps;
  const signIns = new SignInGuard(limits.sessionAttemptsPerMinute, limits.sessionLockoutMs);
  const passcodeBudget = new PasscodeBudget({
    failuresPerHour: limits.passcodeFailuresPerHour,
    failuresPerNetworkPerHour: limits.passcodeFailuresPerNetworkPerHour,
    lockoutMs: limits.sessionLockoutMs,
  });
  const httpSends = new KeyedBuckets(limits.messagesPerSecond, limits.messageBurst);
  const searches = new KeyedBuckets(limits.searchesPerMinute / 60, limits.searchesPerMinute);
  const codes = new SignInCodes({ store, limits });
  const codeRequests = new KeyedBuckets(CODE_REQUESTS_PER_MINUTE / 60, CODE_REQUESTS_PER_MINUTE);
  const roomCreations = new KeyedBuckets(
    limits.roomCreationsPerMinute / 60,
    limits.roomCreationsPerMinute,
  );

  async function withBody<T>(
    ctx: RouteContext,
    schema: Parameters<typeof validate<T>>[0],
    then: (data: T, user: StoredUser) => Promise<Answer>,
  ): Promise<Answer> {
    const user = await ctx.user();
    if (!user.ok) return user;
    const body = await ctx.body();
    if (!body.ok) return body;
    const parsed = validate(schema, body.body);
    if (!parsed.ok) return parsed;
    return then(parsed.data, user.user);
  }

  async function withUser(
    ctx: RouteContext,
    then: (user: StoredUser) => Promise<Answer>,
  ): Promise<Answer> {
    const user = await ctx.user();
    return user.ok ? then(user.user) : user;
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/healthz$/,
      handler: async () => ({ body: { ok: true, version: deps.version } }),
    },
    {
      method: 'GET',
      pattern: /^\/readyz$/,
      handler: async () =>
        (await deps.ready())
          ? { body: { ok: true } }
          : {
              status: 503,
              body: { ok: false, error: { code: 'storage_error', message: 'not ready' } },
            },
    },
    {
      method: 'POST',
      pattern: /^\/api\/session$/,
      handler: async (ctx) => {
        if (!auth.issuesTokens) return failure('sessions_disabled');
        // The TCP peer; X-Forwarded-For (the client's to forge) only from a trusted proxy.
        // Counted per IPv4 address or IPv6 /64 (limitKey).
        const address = deps.clientAddress(ctx.req) || 'unknown';
        const addressKey = limitKey(address);
        // The relay's or the network's passcode budget locked out: refused before the attempt
        // counts against the address, so waiting it out costs a colleague nothing.
        const budget: SignInVerdict = deps.passcode.required
          ? passcodeBudget.locked(address)
          : { ok: true };
        if (!budget.ok) {
          return rateLimited(budget.retryAfterMs, 'too many wrong passcodes; retry in');
        }
        const verdict = signIns.attempt(addressKey);
        if (!verdict.ok) {
          return rateLimited(
            verdict.retryAfterMs,
            'too many sign-in attempts from this address; retry in',
          );
        }
        const body = await ctx.body();
        if (!body.ok) return body;
        const parsed = validate(signInRequest, body.body);
        if (!parsed.ok) return parsed;
        // Names that draw nothing or hide characters are refused; look-alikes of an existing
        // name are name_taken (the store compares name keys, relay/core/name-key.ts).
        const name = normalizeName(parsed.data.name);
        if (!isDisplayName(name)) {
          return failure(
            'invalid_name',
            'a display name is 1–64 characters, with something visible and no control or invisible characters',
          );
        }
        if (deps.passcode.required) {
          // Spent before scrypt runs, so concurrent guesses cannot overrun the budget.
          const reserved = passcodeBudget.reserve(address);
          if (!reserved.ok) {
            return rateLimited(reserved.retryAfterMs, 'too many wrong passcodes; retry in');
          }
          if (!(await deps.passcode.check(parsed.data.passcode))) return failure('bad_passcode');
          passcodeBudget.refund(address);
        }
        const deviceId = parsed.data.device_unique_id;
        let user = await store.findUserByName(name);
        let recoveryCode: string | null = null;
        // A holder of that user's token adds a device (or signs in again after it expired).
        const holdsToken =
          user !== null &&
          (await auth
            .verify(bearerToken(ctx.req), { allowExpired: true })
            .then((current) => current.ok && current.identity.user.id === user?.id));
        if (holdsToken) {
          deps.logger.debug({ user: user?.id }, 'device added with a token');
        } else if (parsed.data.code !== undefined) {
          // A code for a name: the same answer whether the name is unknown or the code wrong.
          const checked = await codes.signIn(name, user, parsed.data.code);
          if (checked.ok) {
            user = checked.user;
            recoveryCode = checked.recoveryCode;
            deps.logger.info({ user: user.id, with: checked.kind }, 'signed in with a code');
          } else if (checked.code === 'rate_limited') {
            return rateLimited(
              checked.retryAfterMs,
              'too many wrong codes for this name; retry in',
            );
          } else {
            return failure('bad_recovery_code');
          }
        } else if (user !== null) {
          return failure(
            'name_taken',
            `"${name}" is taken; sign in with a recovery code or a code from a device of that user, or pick another name`,
          );
        } else {
          recoveryCode = newRecoveryCode();
          const recoveryHash = (await codes.hasher()).recovery(recoveryCode);
          user = await service.createUser(name, { recoveryHash });
          if (user === null) return failure('name_taken');
          deps.logger.info({ user: user.id }, 'user created');
        }
        if (user === null) return failure('name_taken');
        signIns.succeeded(addressKey);
        return {
          status: 201,
          body: {
            token: await auth.issue(user, deviceId),
            user: { id: user.id, name: user.name },
            ...(recoveryCode === null ? {} : { recovery_code: formatCode(recoveryCode) }),
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/recovery-code$/,
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          if (!auth.issuesTokens) return failure('sessions_disabled');
          const stored = await store.getRecoveryCode(user.id);
          return { body: { created_at: stored?.created_at ?? null } };
        }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/recovery-code$/,
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          if (!auth.issuesTokens) return failure('sessions_disabled');
          if (!codeRequests.take(user.id))
            return failure('rate_limited', 'too many new codes; wait a minute');
          const created = await codes.regenerateRecovery(user);
          deps.logger.info({ user: user.id }, 'recovery code regenerated');
          return { status: 201, body: created };
        }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/link-codes$/,
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          if (!auth.issuesTokens) return failure('sessions_disabled');
          if (!codeRequests.take(user.id))
            return failure('rate_limited', 'too many new codes; wait a minute');
          return { status: 201, body: await codes.createLink(user) };
        }),
    },
    {
      // Sign out everywhere: every token of this user stops working, this one included.
      method: 'POST',
      pattern: /^\/api\/tokens\/revoke$/,
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          if (!auth.issuesTokens) return failure('sessions_disabled');
          const generation = await auth.revokeAll(user.id);
          if (generation === null) return failure('unauthorized', 'no such user');
          const closed = deps.tokensRevoked?.(user.id, generation) ?? 0;
          deps.logger.info({ user: user.id, closed }, 'signed out everywhere');
          return { body: { ok: true } };
        }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/me$/,
      handler: (ctx) => withUser(ctx, async (user) => ({ body: { id: user.id, name: user.name } })),
    },
    {
      method: 'GET',
      pattern: /^\/api\/users$/,
      handler: (ctx) =>
        withUser(ctx, async () => ({
          body: { users: (await store.listUsers(5_000)).map(({ id, name }) => ({ id, name })) },
        })),
    },
    {
      method: 'GET',
      pattern: /^\/api\/chats$/,
      handler: (ctx) =>
        withUser(ctx, async (user) =>
          ctx.url.searchParams.get('scope') === 'public'
            ? { body: { chats: await store.listPublicChats(1_000) } }
            : { body: { chats: await service.listChats(user) } },
        ),
    },
    {
      method: 'POST',
      pattern: /^\/api\/chats$/,
      handler: (ctx) =>
        withBody(ctx, createChatRequest, async (data, user) => {
          if (!roomCreations.take(user.id))
            return failure('rate_limited', 'too many new rooms; wait a minute');
          const created = await service.createRoom(user, data);
          return created.ok ? { status: 201, body: { chat: created.chat } } : created;
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/chats/${ID}$`),
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          const chatId = ctx.params[0] ?? '';
          const access = await service.requireMember(chatId, user);
          if (!access.ok) return access;
          const members = (await store.listMembers(chatId)).map(({ id, name }) => ({ id, name }));
          return { body: { chat: access.chat, members } };
        }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/chats/${ID}/join$`),
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          const joined = await service.joinRoom(user, ctx.params[0] ?? '');
          return joined.ok ? { body: { chat: joined.chat } } : joined;
        }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/chats/${ID}/leave$`),
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          const left = await service.leave(user, ctx.params[0] ?? '');
          return left.ok ? { body: { ok: true } } : left;
        }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/chats/${ID}/members$`),
      handler: (ctx) =>
        withBody(ctx, addMemberRequest, async (data, user) => {
          const added = await service.addMember(user, ctx.params[0] ?? '', data.user_id);
          return added.ok ? { body: { chat: added.chat } } : added;
        }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/dms$/,
      handler: (ctx) =>
        withBody(ctx, dmRequest, async (data, user) => {
          const dm = await service.getOrCreateDm(user, data.user_id);
          return dm.ok ? { body: { chat: dm.chat } } : dm;
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/chats/${ID}/messages$`),
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          const query = validate(historyQuery, Object.fromEntries(ctx.url.searchParams));
          if (!query.ok) return query;
          const page = await service.history(user, ctx.params[0] ?? '', query.data);
          if (!page.ok) return page;
          const body: HistoryPage = {
            messages: page.messages,
            events: page.events,
            has_more: page.has_more,
          };
          return { body };
        }),
    },
    {
      // An edit of the user's own message; who may edit what is ChatService's (and the store's,
      // in the transaction) to decide, like every other route's access.
      method: 'PATCH',
      pattern: new RegExp(`^/api/chats/${ID}/messages/${ID}$`),
      handler: (ctx) =>
        withBody(ctx, editMessageRequest, async (data, user) => {
          if (!httpSends.take(user.id))
            return failure('rate_limited', 'too many messages; slow down and resend');
          const { stored } = await service.editMessage({
            chatId: ctx.params[0] ?? '',
            actor: user,
            messageId: ctx.params[1] ?? '',
            content: data.content,
            refId: data.ref_id,
            originConnectionId: null,
          });
          return changeAnswer(await stored);
        }),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/chats/${ID}/messages/${ID}$`),
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          if (!httpSends.take(user.id))
            return failure('rate_limited', 'too many messages; slow down and resend');
          const { stored } = await service.deleteMessage({
            chatId: ctx.params[0] ?? '',
            actor: user,
            messageId: ctx.params[1] ?? '',
            originConnectionId: null,
          });
          return changeAnswer(await stored);
        }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/chats/${ID}/messages$`),
      handler: (ctx) =>
        withBody(ctx, sendMessagePayload, async (data, user) => {
          if (!httpSends.take(user.id))
            return failure('rate_limited', 'too many messages; slow down and resend');
          const chatId = ctx.params[0] ?? '';
          const result = await service.send({
            chatId,
            sender: user,
            content: data.content,
            mobileRefId: data.mobile_ref_id,
            originConnectionId: null,
          });
          if (!result.ok) return result;
          const sent: MessageSent = {
            mobile_ref_id: data.mobile_ref_id,
            status: 'sent',
            chat_id: chatId,
            message_id: result.message.message_id,
            seq: result.message.seq,
            timestamp: result.message.timestamp,
            ...(result.duplicate ? { duplicate: true } : {}),
          };
          return {
            status: result.duplicate ? 200 : 201,
            body: { ...sent, message: result.message },
          };
        }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/chats/${ID}/read$`),
      handler: (ctx) =>
        withBody(ctx, readPayload, async (data, user) => {
          const read = await service.markRead(user, ctx.params[0] ?? '', data.seq);
          return read.ok ? { body: { read_seq: read.read_seq } } : read;
        }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/search$/,
      handler: (ctx) =>
        withUser(ctx, async (user) => {
          const query = validate(searchQuery, Object.fromEntries(ctx.url.searchParams));
          if (!query.ok) return query;
          if (!searches.take(user.id))
            return failure('rate_limited', 'too many searches; wait a moment');
          const page = await service.search(user, query.data);
          return page.ok ? { body: { messages: page.messages, next: page.next } } : page;
        }),
    },
  ];

  /**
   * Answers API routes, and every other path under /api/ with a JSON 404 (never the web
   * client's page); returns false for paths it does not own (static files, 404).
   */
  return async function handle(req, res) {
    const url = requestUrl(req);
    if (url === null) {
      sendError(res, failure('invalid_payload', 'the request target is not a path'));
      return true;
    }
    const matching = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((entry) => entry.match !== null);
    if (matching.length === 0) {
      if (!isApiPath(url.pathname)) return false;
      sendError(res, failure('not_found', 'no such route'));
      return true;
    }
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return true;
    }
    // HEAD is answered like GET; Node sends its headers (Content-Length included) without the body.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const entry = matching.find(({ route }) => route.method === method);
    if (entry === undefined) {
      const allowed: string[] = [...new Set(matching.map(({ route }) => route.method))];
      if (allowed.includes('GET')) allowed.push('HEAD');
      sendError(res, failure('method_not_allowed', `use ${allowed.join(' or ')}`), {
        Allow: [...allowed, 'OPTIONS'].join(', '),
      });
      return true;
    }
    let cachedUser: Promise<{ ok: true; user: StoredUser } | Failure> | null = null;
    const ctx: RouteContext = {
      req,
      url,
      params: (entry.match ?? []).slice(1),
      body: () => readJsonBody(req, limits.maxHttpBodyBytes),
      user: () =>
        (cachedUser ??= auth
          .verify(bearerToken(req))
          .then((verified) =>
            verified.ok ? { ok: true as const, user: verified.identity.user } : verified,
          )),
    };
    try {
      const answer = await entry.route.handler(ctx);
      if (isFailure(answer)) sendError(res, answer);
      else sendJson(res, answer.status ?? 200, answer.body, answer.headers);
    } catch (error) {
      // A write other than a send (sign-in, a new room) on a full or read-only disk: 503 with
      // the reason, like a refused send, not an unexpected 500.
      // The same for a cluster's PostgreSQL being unreachable or too busy: 503 storage_error.
      const refused = storageOrDatabaseFailure(error, null);
      if (refused !== null && (refused.code !== 'storage_error' || databaseUnavailable(error))) {
        sendError(res, refused);
        return true;
      }
      const requestId = newId();
      deps.logger.error({ err: error, requestId, path: url.pathname }, 'request failed');
      sendError(res, failure('internal_error', `unexpected error (request ${requestId})`));
    }
    return true;
  };
}
