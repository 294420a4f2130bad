/**
 * The virtualized message list (role log "Messages"). Only the rows in view (plus overscan) are
 * in the DOM, each measured as it renders, so a 10,000-message chat costs the same to draw as a
 * 50-message one. Anchored to the end (@tanstack/react-virtual `anchorTo: 'end'`): it opens at
 * the newest message, follows new ones while the reader is at the bottom, and keeps the reader's
 * place when older history is prepended. Older history loads ahead of the reader, well before
 * the top is reached.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { outgoingContent } from '../../relay/protocol/message-content.js';
import type { ChangeFailure } from '../net/parley-client.js';
import { chatTitle, visibleMessages } from '../state/selectors.js';
import type { UiMessage } from '../state/types.js';
import { emptyTimeline } from '../state/timeline.js';
import { dmPeer } from './chat-peer.js';
import { chatIntro } from './chat-text.js';
import { DeleteMessageDialog } from './DeleteMessageDialog.js';
import { ArrowDownIcon, HashIcon, LockIcon, TimerIcon } from './Icons.js';
import { changeTarget, editProblem, isDeleted } from './message-changes.js';
import { buildRows, type MessageRow } from './message-rows.js';
import { prepareMentions } from './message-text.js';
import { DaySeparator, MessageItem, type MessageActions } from './MessageRow.js';
import {
  useActions,
  useClient,
  useParley,
  useParleyShallow,
  useServices,
} from './parley-context.js';
import { ProfileCard, type ProfileTarget } from './ProfileCard.js';
import { useDrafts } from './use-drafts.js';

const EMPTY_TIMELINE = emptyTimeline();
/** Space above the first message: the "beginning of the chat" or loading line, and its day. */
const HEAD_PX = 150;
/** Load older history when the reader is this close to the top. */
const LOAD_AHEAD_PX = 1_500;
/** Within this distance of the bottom counts as "at the bottom". */
const END_THRESHOLD_PX = 80;

function estimate(row: MessageRow | undefined): number {
  if (row === undefined) return 40;
  if (row.kind === 'day') return 44;
  const lines = Math.ceil(row.message.content.length / 90) - 1;
  return (row.continued ? 26 : 52) + Math.max(0, lines) * 21;
}

/** Focus back in the composer once an edit is saved or cancelled (where ↑ started it). */
function focusComposer(): void {
  document.querySelector<HTMLTextAreaElement>('.composer-input')?.focus();
}

export function MessageList({ chatId }: { chatId: string }) {
  const client = useClient();
  const services = useServices();
  const store = useActions();
  const editing = useParley((s) => (s.editing?.chatId === chatId ? s.editing : null));
  const [deleting, setDeleting] = useState<UiMessage | null>(null);
  const [changeFailure, setChangeFailure] = useState<ChangeFailure | null>(null);
  const drafts = useDrafts();
  const timeline = useParley((s) => s.timelines[chatId]) ?? EMPTY_TIMELINE;
  const myId = useParley((s) => s.me?.id ?? null);
  const users = useParley((s) => s.users);
  const offline = useParley((s) => s.status !== 'online');
  // Primitives only: the selector's result is compared key by key.
  const about = useParleyShallow((s) => {
    const chat = s.chats[chatId];
    if (chat === undefined) return null;
    return {
      kind: chat.kind,
      visibility: chat.visibility,
      ephemeral_ttl_s: chat.ephemeral_ttl_s,
      is_main: chat.is_main,
      title: chatTitle(s, chat),
      selfDm: chat.kind === 'dm' && dmPeer(chat, s.me?.id ?? null) === s.me?.id,
    };
  });
  const intro = useMemo(
    () => (about === null ? null : chatIntro(about, about.title, { selfDm: about.selfDm })),
    [about],
  );
  const vanishing = about?.ephemeral_ttl_s != null;
  const [profile, setProfile] = useState<ProfileTarget | null>(null);

  const mentions = useMemo(() => prepareMentions(Object.values(users)), [users]);
  const { messages: confirmed, pending, hasOlder, loadingOlder } = timeline;
  const built = useMemo(
    () => buildRows(visibleMessages({ ...EMPTY_TIMELINE, messages: confirmed, pending }), { myId }),
    [confirmed, pending, myId],
  );
  // The first day separator lives in the list head, not in the rows: as a row it would stay
  // first (same key) when same-day history is prepended, and the end anchoring, which keeps the
  // row at the reader's offset in place, would pin it instead of the message below it.
  const head = built[0];
  const firstDay = head?.kind === 'day' ? head : null;
  const rows = useMemo(() => (firstDay === null ? built : built.slice(1)), [built, firstDay]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimate(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    paddingStart: HEAD_PX,
    paddingEnd: 8,
    overscan: 10,
    // Render the newest rows in the very first pass, not the oldest ones followed by a second
    // pass once scrollToEnd's scroll event arrives: start at the estimated end, with the window's
    // height standing in for the list's until its ResizeObserver reports.
    initialRect: { width: 0, height: window.innerHeight },
    initialOffset: () =>
      Math.max(0, rows.reduce((sum, row) => sum + estimate(row), HEAD_PX) - window.innerHeight),
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: END_THRESHOLD_PX,
    useFlushSync: false,
  });

  // Open at the newest message.
  useLayoutEffect(() => {
    virtualizer.scrollToEnd();
  }, [virtualizer]);

  // One's own new message always scrolls into view, even when reading older history.
  const lastRow = rows.at(-1);
  const lastKey = lastRow?.key;
  const lastIsOwnPending =
    lastRow?.kind === 'message' && lastRow.own && lastRow.message.status === 'pending';
  const previousLastKey = useRef(lastKey);
  useLayoutEffect(() => {
    if (lastKey !== previousLastKey.current && lastIsOwnPending) virtualizer.scrollToEnd();
    previousLastKey.current = lastKey;
  }, [lastKey, lastIsOwnPending, virtualizer]);

  // A search result to show: scrolled to the middle once per request, and marked.
  const focus = useParley((s) => (s.focus?.chatId === chatId ? s.focus : null));
  const focusIndex =
    focus === null
      ? -1
      : rows.findIndex(
          (row) =>
            row.kind === 'message' &&
            row.message.status === 'sent' &&
            row.message.seq === focus.seq,
        );
  const shownFocus = useRef(0);
  useLayoutEffect(() => {
    if (focus === null || focusIndex < 0 || shownFocus.current === focus.nonce) return;
    shownFocus.current = focus.nonce;
    virtualizer.scrollToIndex(focusIndex, { align: 'center' });
  }, [focus, focusIndex, virtualizer]);

  // The message being edited: scrolled into view when the editor opens (↑ may open it on a row
  // out of view); the editor closes if the message is deleted meanwhile (here or elsewhere).
  const editingRef = editing?.mobileRefId ?? null;
  const editingIndex =
    editingRef === null
      ? -1
      : rows.findIndex((row) => row.kind === 'message' && row.message.mobile_ref_id === editingRef);
  const editingRow = editingIndex < 0 ? undefined : rows[editingIndex];
  const editingGone =
    editingRef !== null &&
    (editingRow === undefined || (editingRow.kind === 'message' && isDeleted(editingRow.message)));
  useLayoutEffect(() => {
    if (editingRef !== null && editingIndex >= 0)
      virtualizer.scrollToIndex(editingIndex, { align: 'auto' });
    // Only when another message is opened, not as rows come and go.
  }, [editingRef]);
  useEffect(() => {
    if (editingGone) store.setEditing(null);
  }, [editingGone, store]);

  // Edits and deletes the relay refused for good (after they were queued): said once, here.
  useEffect(
    () =>
      client.onChangeFailed((failure) => {
        if (failure.chatId === chatId) setChangeFailure(failure);
      }),
    [client, chatId],
  );

  const loadOlder = useCallback(() => {
    if (hasOlder && !loadingOlder) void client.loadOlder(chatId);
  }, [client, chatId, hasOlder, loadingOlder]);

  // After a page lands (no scroll event fires when the reader is already at the top), or when a
  // short chat does not fill the view: fetch more if the reader is still near the top.
  useEffect(() => {
    const el = scrollRef.current;
    if (el === null) return;
    if (el.scrollTop < LOAD_AHEAD_PX || el.scrollHeight - el.clientHeight < LOAD_AHEAD_PX)
      loadOlder();
  }, [loadOlder, rows.length]);

  const [atEnd, setAtEnd] = useState(true);
  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (el === null) return;
    if (el.scrollTop < LOAD_AHEAD_PX) loadOlder();
    setAtEnd(el.scrollHeight - el.scrollTop - el.clientHeight <= END_THRESHOLD_PX * 2);
  }, [loadOlder]);

  const actions = useMemo<MessageActions>(
    () => ({
      retry: (ref) => void client.retry(chatId, ref),
      edit: (ref, content) => {
        drafts.restore(chatId, content);
        client.discard(chatId, ref);
      },
      discard: (ref) => client.discard(chatId, ref),
      // A second click on the same name closes its card.
      showProfile: (userId, name, anchor) =>
        setProfile((open) => (open?.anchor === anchor ? null : { userId, name, anchor })),
      startEdit: (message) =>
        store.setEditing({ chatId, mobileRefId: message.mobile_ref_id, text: message.content }),
      editText: (text) => {
        const current = services.store.getState().editing;
        if (current !== null) store.setEditing({ ...current, text });
      },
      saveEdit: (message, text) => {
        // Unchanged: nothing to send (the relay would record an edit anyway).
        if (outgoingContent(text) === message.content) {
          store.setEditing(null);
          focusComposer();
          return null;
        }
        const problem = editProblem(client.editMessage(chatId, changeTarget(message), text));
        if (problem === null) {
          store.setEditing(null);
          focusComposer();
        }
        return problem;
      },
      cancelEdit: () => {
        store.setEditing(null);
        focusComposer();
      },
      confirmDelete: (message) => setDeleting(message),
    }),
    [client, chatId, drafts, store, services],
  );

  function deleteConfirmed(message: UiMessage): string | null {
    const result = client.deleteMessage(chatId, changeTarget(message));
    if (!result.ok) {
      return result.code === 'not_found'
        ? 'the message is no longer there.'
        : result.code === 'outbox_full'
          ? 'too many changes are waiting for the connection.'
          : 'this chat is no longer available.';
    }
    setDeleting(null);
    scrollRef.current?.focus();
    return null;
  }

  const items = virtualizer.getVirtualItems();
  const first = items[0];

  return (
    <div className="message-area">
      <div
        ref={scrollRef}
        className="message-scroller"
        role="log"
        aria-label="Messages"
        // A scrollable region must be reachable by keyboard.
        tabIndex={0}
        onScroll={onScroll}
      >
        <div className="message-canvas" style={{ height: virtualizer.getTotalSize() }}>
          <div className="message-head">
            {hasOlder ? (
              <p className="history-loading" aria-hidden={!loadingOlder}>
                <span className="spinner" aria-hidden="true" />
                Loading earlier messages…
              </p>
            ) : (
              <div className="chat-intro">
                {intro === null ? null : (
                  <>
                    <p className="chat-intro-title">
                      {intro.icon === 'person' ? null : (
                        <span className="chat-intro-icon" aria-hidden="true">
                          {intro.icon === 'lock' ? <LockIcon /> : <HashIcon />}
                        </span>
                      )}
                      {intro.title}
                    </p>
                    {intro.lines.map((line, i) => (
                      <p key={i} className="muted small chat-intro-line">
                        {vanishing && i === intro.lines.length - 1 ? <TimerIcon /> : null}
                        {line}
                      </p>
                    ))}
                  </>
                )}
              </div>
            )}
            {firstDay === null ? null : <DaySeparator at={firstDay.at} />}
          </div>
          <div
            className="message-window"
            style={{ transform: `translateY(${first?.start ?? 0}px)` }}
          >
            {items.map((item) => {
              const row = rows[item.index];
              if (row === undefined) return null;
              return (
                <div
                  key={item.key}
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  className={item.index === focusIndex ? 'message-row is-focused' : 'message-row'}
                  aria-current={item.index === focusIndex ? 'true' : undefined}
                >
                  {row.kind === 'day' ? (
                    <DaySeparator at={row.at} />
                  ) : (
                    <MessageItem
                      message={row.message}
                      continued={row.continued}
                      own={row.own}
                      mentions={mentions}
                      myId={myId}
                      offline={offline}
                      editing={
                        editing !== null && row.message.mobile_ref_id === editing.mobileRefId
                          ? editing
                          : null
                      }
                      actions={actions}
                    />
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {atEnd ? null : (
        <button type="button" className="jump-latest" onClick={() => virtualizer.scrollToEnd()}>
          <ArrowDownIcon />
          Jump to latest
        </button>
      )}
      {changeFailure === null ? null : (
        <div className="change-failure" role="alert">
          <span>
            Could not {changeFailure.kind} the message: {changeFailure.message}
          </span>
          <button type="button" className="link-button" onClick={() => setChangeFailure(null)}>
            Dismiss
          </button>
        </div>
      )}
      {deleting === null ? null : (
        <DeleteMessageDialog
          onDelete={() => deleteConfirmed(deleting)}
          onClose={() => setDeleting(null)}
        />
      )}
      {profile === null ? null : <ProfileCard target={profile} onClose={() => setProfile(null)} />}
    </div>
  );
}
