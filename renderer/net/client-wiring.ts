/**
 * How the client layer's modules are put together (the facade, parley-client.ts, holds the
 * result): each module gets the others it needs as functions, so none holds another's state.
 */
import type { Channel } from 'phoenix';
import { findMentions } from '../../relay/protocol/mentions.js';
import type { ParleyStore } from '../state/store.js';
import { DEFAULT_BACKOFF, fullJitterBackoff, type BackoffOptions } from './backoff.js';
import { ChatLinks } from './chat-links.js';
import { ChatSync } from './chat-sync.js';
import { Connection } from './connection.js';
import { Directory } from './directory.js';
import type { HistorySource } from './history-cache.js';
import { MessageActions } from './message-actions.js';
import {
  joinNotifications,
  notifyMessage,
  type NotificationRequest,
} from './notifications-link.js';
import { OlderHistory } from './older-history.js';
import { OutboxSender, type ChangeFailure } from './outbox-sender.js';
import { ReadMarker } from './read-marker.js';
import { SessionKeeper } from './session.js';
import type { KeyValueStorage } from './storage.js';
import { TypingSender } from './typing-sender.js';

export interface ClientOptions {
  store: ParleyStore;
  storage: KeyValueStorage;
  /** WebSocket implementation (the browser's by default; `ws` in Node tests). */
  transport?: typeof WebSocket;
  fetchImpl?: typeof fetch;
  backoff?: BackoffOptions;
  /** Shows an OS/browser notification; the UI decides how. */
  notify?: (request: NotificationRequest) => void;
  /** Push timeout for sends and joins. */
  pushTimeoutMs?: number;
  /** Failed connection attempts on one URL before trying the next URL of the profile. */
  attemptsPerUrl?: number;
  /** The desktop offline cache: recent history shown at once at start, even offline. */
  history?: HistorySource;
}

/** What the facade does that modules call back into. */
export interface ClientHooks {
  openChat: (chatId: string) => void;
  onChangeFailed: (failure: ChangeFailure) => void;
}

export interface ClientParts {
  session: SessionKeeper;
  connection: Connection;
  sync: ChatSync;
  links: ChatLinks;
  sender: OutboxSender;
  messages: MessageActions;
  directory: Directory;
  older: OlderHistory;
  typing: TypingSender;
  readMarker: ReadMarker;
}

export function wireClient(
  o: ClientOptions & { pushTimeoutMs: number },
  hooks: ClientHooks,
): ClientParts {
  const { store, pushTimeoutMs } = o;
  let notifications: Channel | null = null;
  const backoff = fullJitterBackoff(o.backoff ?? DEFAULT_BACKOFF);
  const api = () => connection.api;
  const channel = (chatId: string) => links.joined(chatId);
  const session = new SessionKeeper(o.storage, o.fetchImpl);
  const sync = new ChatSync(store, api);
  const older = new OlderHistory(store, api);
  const typing = new TypingSender(channel, pushTimeoutMs);
  const readMarker = new ReadMarker(store, channel, api, pushTimeoutMs);
  const directory = new Directory({
    store,
    api,
    link: (chatId) => links.link(chatId),
    forget: (chatId) => links.forget(chatId),
    openChat: hooks.openChat,
    markReadIfVisible: (chatId) => readMarker.markIfVisible(chatId),
  });
  const links = new ChatLinks({
    store,
    sync: sync,
    pushTimeoutMs,
    onJoined: (chatId, resumed, reply) => {
      if (resumed) void directory.refreshUnread();
      else
        store
          .getState()
          .actions.setUnread(
            chatId,
            store.getState().chats[chatId]?.unread_count ?? 0,
            reply.read_seq,
          );
      readMarker.markIfVisible(chatId);
      void sender.flush();
    },
    onMessage: (chatId, message) => {
      const me = store.getState().me;
      notifyMessage(o, {
        chatId,
        senderId: message.sender_id,
        content: message.content,
        mentioned: me !== null && findMentions(message.content, [me]).length > 0,
      });
      readMarker.markIfVisible(chatId);
    },
  });
  const sender = new OutboxSender({
    store,
    sync: sync,
    pushTimeoutMs,
    backoff,
    channel,
    onChangeFailed: hooks.onChangeFailed,
  });
  const messages = new MessageActions(store, sender);
  const connection = new Connection({
    store,
    deviceId: () => session.deviceId,
    transport: o.transport,
    fetchImpl: o.fetchImpl,
    backoff,
    pushTimeoutMs,
    attemptsPerUrl: o.attemptsPerUrl ?? 2,
    onSocket: (socket, session) => {
      links.attach(socket);
      notifications = joinNotifications(
        {
          store,
          pushTimeoutMs,
          notify: o.notify,
          onUnknownChat: () => void directory.load(),
          onChatRemoved: (chatId) => directory.removed(chatId),
        },
        socket,
        session.user.id,
      );
      for (const chatId of Object.keys(store.getState().chats)) links.link(chatId);
    },
    // Chats created or joined elsewhere while we were away, and fresh unread counts.
    onOpen: () => void directory.load(),
    onDrop: () => {
      links.dropAll();
      notifications?.leave();
      notifications = null;
    },
  });
  return {
    session,
    connection,
    sync,
    links,
    sender,
    messages,
    directory,
    older,
    typing,
    readMarker,
  };
}
