/**
 * The one zustand store (vanilla, so the network layer can write to it without React).
 * Components read it through selectors; everything else writes through `actions`.
 * Records are replaced, never mutated.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { HostingStatus } from '../../electron/shared/bridge.js';
import type { ChatEvent, ChatSummary, UserInfo, WireMessage } from '../../relay/protocol/events.js';
import type { ValidInvite } from './invite-plan.js';
import * as tl from './timeline.js';
import type {
  ChatState,
  ConnectionError,
  ConnectionStatus,
  Dialog,
  SendFailure,
  Timeline,
  UiMessage,
} from './types.js';

export interface ParleyState {
  status: ConnectionStatus;
  error: ConnectionError | null;
  serverUrl: string | null;
  me: UserInfo | null;
  users: Record<string, UserInfo>;
  chats: Record<string, ChatState>;
  activeChatId: string | null;
  timelines: Record<string, Timeline>;
  typing: Record<string, string[]>;
  outboxCount: number;
  dialog: Dialog;
  windowFocused: boolean;
  /** Desktop only: whether this computer hosts a room (electron/shared/bridge.ts); null in a
   * browser or before the desktop shell answered. Kept across sign-out. */
  hosting: HostingStatus | null;
  /** A `parley://` invite being followed (desktop only; renderer/net/invite-follower.ts). Kept
   * across sign-out: switching servers signs out, then the connect screen shows it. */
  invite: PendingInvite | null;
  /** Why the invited room could not be opened, shown in the workspace until dismissed. */
  inviteNotice: string | null;
  /** A message to scroll to and mark (a search result); `nonce` repeats a request for the same. */
  focus: FocusedMessage | null;
  /** One of our messages open in the inline editor (renderer/ui/MessageEditor.tsx), or null. */
  editing: EditingMessage | null;
  /**
   * A recovery code the relay just made (at sign-up, when one was used, or regenerated), shown
   * until the user says they saved it. Kept in memory only, never in storage.
   */
  recoveryCode: ShownRecoveryCode | null;
  actions: ParleyActions;
}

export interface ShownRecoveryCode {
  code: string;
  reason: 'sign-up' | 'replaced' | 'regenerated';
}

/**
 * `sign-in`: the connect screen is prefilled with the invite; `open-room`: signed in to its
 * server, opening the room; `confirm-switch`: signed in elsewhere, asking whether to switch
 * (`current` is the address of the server signed in to).
 */
export type PendingInvite =
  | { stage: 'sign-in' | 'open-room'; invite: ValidInvite }
  | { stage: 'confirm-switch'; invite: ValidInvite; current: string };

/**
 * The message being edited, by its chat and `mobile_ref_id` (stable from pending to sent, and
 * unique for one's own messages), with the text typed so far: kept here rather than in the row,
 * so that it survives the virtual list unmounting the row while one scrolls.
 */
export interface EditingMessage {
  chatId: string;
  mobileRefId: string;
  text: string;
}

export interface FocusedMessage {
  chatId: string;
  seq: number;
  nonce: number;
}

export interface ParleyActions {
  setStatus(status: ConnectionStatus, error?: ConnectionError | null): void;
  signedIn(input: { serverUrl: string; me: UserInfo }): void;
  signedOut(): void;
  setUsers(users: readonly UserInfo[]): void;
  setChats(chats: readonly ChatSummary[]): void;
  upsertChat(chat: ChatSummary | (Partial<ChatState> & { id: string })): void;
  removeChat(chatId: string): void;
  openChat(chatId: string | null): void;
  setUnread(chatId: string, unread: number, readSeq?: number): void;
  setPresence(chatId: string, present: Record<string, number>): void;
  setTyping(chatId: string, userIds: string[]): void;
  /** A join reply: messages plus where the resume point now stands. */
  applyJoin(
    chatId: string,
    input: { messages: readonly WireMessage[]; hasOlder?: boolean; syncedSeq: number },
  ): void;
  /** A live message; returns true when its seq reveals a gap to backfill. */
  receive(chatId: string, message: WireMessage): boolean;
  applyBackfill(chatId: string, messages: readonly WireMessage[], syncedSeq: number): void;
  /**
   * Change events (edits, deletes) from a join reply, a live push or a backfill page: applied to
   * the timeline's messages and the chat's preview by the version_seq rule (twice, or out of
   * order, is harmless; timeline.ts `applyEvents`); the resume point and the chat's stream head
   * move over them. Never unread, never a notification.
   */
  applyChatEvents(chatId: string, events: readonly ChatEvent[]): void;
  setLoadingOlder(chatId: string, loading: boolean): void;
  prependOlder(chatId: string, messages: readonly WireMessage[], hasOlder: boolean): void;
  addPending(chatId: string, message: UiMessage): void;
  setPendingStatus(
    chatId: string,
    mobileRefId: string,
    status: 'pending' | 'failed',
    failure?: SendFailure,
  ): void;
  removePending(chatId: string, mobileRefId: string): void;
  expireMessages(now: number): void;
  setOutboxCount(count: number): void;
  openDialog(dialog: Dialog): void;
  focusMessage(chatId: string, seq: number): void;
  /** Opens a message in the inline editor (or changes its text); null closes the editor. */
  setEditing(editing: EditingMessage | null): void;
  setWindowFocused(focused: boolean): void;
  setHosting(status: HostingStatus): void;
  setInvite(invite: PendingInvite | null): void;
  setInviteNotice(notice: string | null): void;
  showRecoveryCode(shown: ShownRecoveryCode | null): void;
}

export type ParleyStore = StoreApi<ParleyState>;

/**
 * The chat preview after `candidate` arrived: a later message, or a newer version (an edit, a
 * tombstone) of the same one; otherwise the preview held.
 */
function newerPreview(current: WireMessage | null, candidate: WireMessage): WireMessage {
  if (current === null || candidate.seq > current.seq) return candidate;
  return tl.isNewerVersion(current, candidate) ? candidate : current;
}

function toChatState(chat: ChatSummary, previous?: ChatState): ChatState {
  return { ...chat, present: previous?.present ?? {} };
}

/** Everything but the actions, as it is before anyone signs in. */
function signedOutState(): Omit<ParleyState, 'actions'> {
  return {
    status: 'signed-out',
    error: null,
    serverUrl: null,
    me: null,
    users: {},
    chats: {},
    activeChatId: null,
    timelines: {},
    typing: {},
    outboxCount: 0,
    dialog: null,
    windowFocused: true,
    hosting: null,
    invite: null,
    inviteNotice: null,
    focus: null,
    editing: null,
    recoveryCode: null,
  };
}

export function createParleyStore(): ParleyStore {
  return createStore<ParleyState>()((set, get) => {
    const timeline = (chatId: string): Timeline => get().timelines[chatId] ?? tl.emptyTimeline();
    const putTimeline = (chatId: string, next: Timeline): void =>
      set((s) => ({ timelines: { ...s.timelines, [chatId]: next } }));
    const myId = (): string | null => get().me?.id ?? null;
    const touchChat = (chatId: string, message: WireMessage): void => {
      const chat = get().chats[chatId];
      if (chat === undefined) return;
      const fromOther = message.sender_id !== myId();
      const unread =
        fromOther && message.seq > chat.read_seq && message.seq > (chat.last_message?.seq ?? 0);
      set((s) => ({
        chats: {
          ...s.chats,
          [chatId]: {
            ...chat,
            last_seq: Math.max(chat.last_seq, message.seq),
            last_message: newerPreview(chat.last_message, message),
            unread_count: unread ? chat.unread_count + 1 : chat.unread_count,
          },
        },
      }));
    };

    const actions: ParleyActions = {
      setStatus: (status, error = null) => set({ status, error }),
      signedIn: ({ serverUrl, me }) =>
        set((s) => ({
          serverUrl,
          me,
          users: { ...s.users, [me.id]: me },
          status: 'connecting',
          error: null,
        })),
      // Back to the signed-out state; the server address, window focus, hosting and a pending
      // invite are kept.
      signedOut: () =>
        set(({ serverUrl, windowFocused, hosting, invite }) => ({
          ...signedOutState(),
          serverUrl,
          windowFocused,
          hosting,
          invite,
        })),
      setUsers: (users) =>
        set((s) => ({ users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, u])) } })),
      setChats: (chats) =>
        set((s) => ({
          chats: Object.fromEntries(chats.map((c) => [c.id, toChatState(c, s.chats[c.id])])),
        })),
      upsertChat: (chat) =>
        set((s) => {
          const previous = s.chats[chat.id];
          if (previous === undefined && !('kind' in chat)) return {};
          const base =
            previous ??
            ({
              unread_count: 0,
              read_seq: 0,
              last_message: null,
              present: {},
            } as unknown as ChatState);
          return { chats: { ...s.chats, [chat.id]: { ...base, ...chat } as ChatState } };
        }),
      removeChat: (chatId) =>
        set((s) => {
          const { [chatId]: _gone, ...chats } = s.chats;
          const { [chatId]: _timeline, ...timelines } = s.timelines;
          return {
            chats,
            timelines,
            activeChatId: s.activeChatId === chatId ? null : s.activeChatId,
          };
        }),
      openChat: (chatId) =>
        set((s) => ({
          activeChatId: chatId,
          dialog: null,
          focus: s.focus?.chatId === chatId ? s.focus : null,
        })),
      setUnread: (chatId, unread, readSeq) =>
        set((s) => {
          const chat = s.chats[chatId];
          if (chat === undefined) return {};
          return {
            chats: {
              ...s.chats,
              [chatId]: {
                ...chat,
                unread_count: unread,
                read_seq: Math.max(chat.read_seq, readSeq ?? chat.read_seq),
              },
            },
          };
        }),
      setPresence: (chatId, present) =>
        set((s) => {
          const chat = s.chats[chatId];
          return chat === undefined
            ? {}
            : { chats: { ...s.chats, [chatId]: { ...chat, present } } };
        }),
      setTyping: (chatId, userIds) => set((s) => ({ typing: { ...s.typing, [chatId]: userIds } })),
      applyJoin: (chatId, { messages, hasOlder, syncedSeq }) => {
        let next = tl.markSynced(tl.mergeMessages(timeline(chatId), messages, myId()), syncedSeq);
        if (hasOlder !== undefined && timeline(chatId).messages.length === 0)
          next = { ...next, hasOlder };
        putTimeline(chatId, next);
        const chat = get().chats[chatId];
        if (chat === undefined || messages.length === 0) return;
        const preview = messages.reduce<WireMessage | null>(newerPreview, chat.last_message);
        const head = Math.max(chat.last_seq, ...messages.map((m) => m.seq));
        if (preview !== chat.last_message || head !== chat.last_seq) {
          set((s) => ({
            chats: { ...s.chats, [chatId]: { ...chat, last_message: preview, last_seq: head } },
          }));
        }
      },
      receive: (chatId, message) => {
        const before = timeline(chatId);
        const known =
          before.messages.length > 0 && before.messages.some((m) => m.seq === message.seq);
        const { timeline: next, gap } = tl.receiveLive(before, message, myId());
        putTimeline(chatId, next);
        if (!known) touchChat(chatId, message);
        return gap;
      },
      applyBackfill: (chatId, messages, syncedSeq) => {
        putTimeline(
          chatId,
          tl.markSynced(tl.mergeMessages(timeline(chatId), messages, myId()), syncedSeq),
        );
        const newest = messages.at(-1);
        if (newest !== undefined) touchChat(chatId, newest);
        // A newer version of the preview itself (edited or deleted while we were away).
        const chat = get().chats[chatId];
        if (chat === undefined || chat.last_message === null) return;
        const preview = messages.reduce<WireMessage | null>(newerPreview, chat.last_message);
        if (preview !== chat.last_message)
          set((s) => ({ chats: { ...s.chats, [chatId]: { ...chat, last_message: preview } } }));
      },
      applyChatEvents: (chatId, events) =>
        set((s) => {
          if (events.length === 0) return {};
          const update: Partial<ParleyState> = {};
          const held = s.timelines[chatId];
          if (held !== undefined) {
            const next = tl.applyEvents(held, events);
            if (next !== held) update.timelines = { ...s.timelines, [chatId]: next };
          }
          const chat = s.chats[chatId];
          if (chat !== undefined) {
            const last = chat.last_message;
            const preview = last === null ? null : events.reduce(tl.applyChange, last);
            const head = Math.max(chat.last_seq, ...events.map((e) => e.seq));
            if (preview !== last || head !== chat.last_seq)
              update.chats = {
                ...s.chats,
                [chatId]: { ...chat, last_message: preview, last_seq: head },
              };
          }
          return update;
        }),
      setLoadingOlder: (chatId, loading) =>
        putTimeline(chatId, { ...timeline(chatId), loadingOlder: loading }),
      prependOlder: (chatId, messages, hasOlder) =>
        putTimeline(chatId, tl.prependOlder(timeline(chatId), messages, hasOlder, myId())),
      addPending: (chatId, message) =>
        putTimeline(chatId, tl.addPending(timeline(chatId), message)),
      setPendingStatus: (chatId, ref, status, error) =>
        putTimeline(chatId, tl.setPendingStatus(timeline(chatId), ref, status, error)),
      removePending: (chatId, ref) => putTimeline(chatId, tl.removePending(timeline(chatId), ref)),
      expireMessages: (now) =>
        set((s) => {
          let changed = false;
          const timelines: Record<string, Timeline> = {};
          for (const [chatId, t] of Object.entries(s.timelines)) {
            const next = s.chats[chatId]?.ephemeral_ttl_s == null ? t : tl.removeExpired(t, now);
            changed ||= next !== t;
            timelines[chatId] = next;
          }
          return changed ? { timelines } : {};
        }),
      setOutboxCount: (count) => set({ outboxCount: count }),
      openDialog: (dialog) => set({ dialog }),
      focusMessage: (chatId, seq) =>
        set((s) => ({ focus: { chatId, seq, nonce: (s.focus?.nonce ?? 0) + 1 } })),
      setEditing: (editing) => set({ editing }),
      setWindowFocused: (focused) => set({ windowFocused: focused }),
      setHosting: (status) => set({ hosting: status }),
      setInvite: (invite) => set({ invite }),
      setInviteNotice: (notice) => set({ inviteNotice: notice }),
      showRecoveryCode: (shown) => set({ recoveryCode: shown }),
    };

    return { ...signedOutState(), actions };
  });
}
