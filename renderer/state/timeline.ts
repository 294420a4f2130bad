/**
 * Pure timeline updates: confirmed messages ordered by seq without duplicates, own pending
 * messages after them, change events (edits, deletes) applied by the version_seq rule, resume
 * point tracking over the whole event stream. No React, no I/O; unit-tested.
 */
import type { ChatEvent } from '../../relay/protocol/events.js';
import type { SendFailure, Timeline, UiMessage, WireMessage } from './types.js';

/** Messages kept in memory per chat; older ones are dropped and paged back in on scroll. */
export const MAX_TIMELINE_MESSAGES = 20_000;

export function emptyTimeline(): Timeline {
  return { messages: [], pending: [], hasOlder: false, loadingOlder: false, syncedSeq: 0 };
}

function confirmed(message: WireMessage): UiMessage {
  return { ...message, status: 'sent' };
}

/** Index of the first message with seq >= target (binary search over the sorted list). */
function lowerBound(messages: readonly UiMessage[], seq: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((messages[mid]?.seq ?? 0) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether `candidate` is a newer state of the same message than `current` (relay/PROTOCOL.md,
 * "The event stream"): a higher `version_seq` means a later edit or delete was applied to it.
 */
export function isNewerVersion(current: WireMessage, candidate: WireMessage): boolean {
  return candidate.seq === current.seq && candidate.version_seq > current.version_seq;
}

/**
 * One change event applied to one message: only to the message with the event's `message_seq`,
 * and only when `event.seq > message.version_seq`, so applying an event twice, or an older one
 * after a newer one, changes nothing (the same object comes back). An edit sets the text and
 * `edited_at`; a delete leaves a tombstone: content "" (the text is gone from memory),
 * `deleted_at` set.
 */
export function applyChange<T extends WireMessage>(message: T, event: ChatEvent): T {
  if (message.seq !== event.message_seq || event.seq <= message.version_seq) return message;
  if (event.type === 'message_edited') {
    return {
      ...message,
      content: event.content,
      edited_at: event.edited_at,
      version_seq: event.seq,
    };
  }
  return { ...message, content: '', deleted_at: event.deleted_at, version_seq: event.seq };
}

/**
 * Merges confirmed messages (from a join reply, a live event or a history page). A message whose
 * seq is already there replaces the copy it has only when it is a newer version (higher
 * `version_seq`); an older or equal one is ignored. Own pending messages they confirm (same
 * mobile_ref_id) leave the pending list.
 */
export function mergeMessages(
  timeline: Timeline,
  incoming: readonly WireMessage[],
  myId: string | null,
): Timeline {
  if (incoming.length === 0) return timeline;
  let messages = timeline.messages;
  const last = messages.at(-1);
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  const first = sorted[0];
  if (first !== undefined && (last === undefined || first.seq > last.seq)) {
    // The common case, live messages at the end: append without searching.
    const fresh: UiMessage[] = [];
    let prev = last?.seq ?? 0;
    for (const message of sorted) {
      const previous = fresh.at(-1);
      if (message.seq > prev) {
        fresh.push(confirmed(message));
        prev = message.seq;
      } else if (previous !== undefined && isNewerVersion(previous, message)) {
        // Two copies of one message in one batch: the newer version wins.
        fresh[fresh.length - 1] = confirmed(message);
      }
    }
    messages = [...messages, ...fresh];
  } else {
    messages = [...messages];
    for (const message of sorted) {
      const at = lowerBound(messages, message.seq);
      const held = messages[at];
      if (held?.seq === message.seq) {
        if (isNewerVersion(held, message)) messages[at] = confirmed(message);
        continue;
      }
      messages.splice(at, 0, confirmed(message));
    }
  }
  let hasOlder = timeline.hasOlder;
  if (messages.length > MAX_TIMELINE_MESSAGES) {
    messages = messages.slice(messages.length - MAX_TIMELINE_MESSAGES);
    hasOlder = true;
  }
  const confirmedRefs = new Set(
    incoming.filter((m) => m.sender_id === myId).map((m) => m.mobile_ref_id),
  );
  const pending =
    confirmedRefs.size === 0
      ? timeline.pending
      : timeline.pending.filter((p) => !confirmedRefs.has(p.mobile_ref_id));
  return { ...timeline, messages, pending, hasOlder };
}

/**
 * Change events (edits, deletes) applied to the confirmed messages they name, by the
 * version_seq rule (`applyChange`); events for messages not held (older than what is loaded)
 * change nothing here, since those messages come in their current state when paged in. The
 * resume point moves over events that follow it without a gap, as it does over messages; an
 * event past a gap leaves it where it is (the backfill of the gap brings it again). Pending
 * messages are never touched: they have no seq yet.
 */
export function applyEvents(timeline: Timeline, events: readonly ChatEvent[]): Timeline {
  if (events.length === 0) return timeline;
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  let messages = timeline.messages;
  for (const event of sorted) {
    const at = lowerBound(messages, event.message_seq);
    const held = messages[at];
    if (held === undefined || held.seq !== event.message_seq) continue;
    const next = applyChange(held, event);
    if (next === held) continue;
    if (messages === timeline.messages) messages = [...messages];
    messages[at] = next;
  }
  let syncedSeq = timeline.syncedSeq;
  for (const event of sorted) if (event.seq === syncedSeq + 1) syncedSeq = event.seq;
  if (messages === timeline.messages && syncedSeq === timeline.syncedSeq) return timeline;
  return { ...timeline, messages, syncedSeq };
}

/**
 * `userId`'s newest message that can still be edited (for ↑ in an empty composer): one still on
 * its way (pending, not failed) if any, else the newest confirmed one that is not a tombstone.
 */
export function lastEditable(timeline: Timeline, userId: string | null): UiMessage | null {
  if (userId === null) return null;
  const waiting = timeline.pending.findLast(
    (m) => m.sender_id === userId && m.status === 'pending',
  );
  if (waiting !== undefined) return waiting;
  for (let i = timeline.messages.length - 1; i >= 0; i -= 1) {
    const message = timeline.messages[i];
    if (message !== undefined && message.sender_id === userId && message.deleted_at === null)
      return message;
  }
  return null;
}

/** Records that every seq up to `seq` is known (a join reply or a backfill covered it). */
export function markSynced(timeline: Timeline, seq: number): Timeline {
  return seq > timeline.syncedSeq ? { ...timeline, syncedSeq: seq } : timeline;
}

/**
 * A live message: returns the new timeline and whether a gap was seen (seq jumped past the
 * resume point), in which case the caller backfills from `syncedSeq`.
 */
export function receiveLive(
  timeline: Timeline,
  message: WireMessage,
  myId: string | null,
): { timeline: Timeline; gap: boolean } {
  const merged = mergeMessages(timeline, [message], myId);
  if (message.seq <= timeline.syncedSeq) return { timeline: merged, gap: false };
  if (message.seq === timeline.syncedSeq + 1)
    return { timeline: markSynced(merged, message.seq), gap: false };
  return { timeline: merged, gap: true };
}

export function prependOlder(
  timeline: Timeline,
  older: readonly WireMessage[],
  hasOlder: boolean,
  myId: string | null,
): Timeline {
  return { ...mergeMessages(timeline, older, myId), hasOlder, loadingOlder: false };
}

export function addPending(timeline: Timeline, message: UiMessage): Timeline {
  return { ...timeline, pending: [...timeline.pending, message] };
}

export function setPendingStatus(
  timeline: Timeline,
  mobileRefId: string,
  status: 'pending' | 'failed',
  failure?: SendFailure,
): Timeline {
  return {
    ...timeline,
    pending: timeline.pending.map((m) =>
      m.mobile_ref_id === mobileRefId
        ? {
            ...m,
            status,
            ...(failure === undefined ? {} : { error: failure.message, errorCode: failure.code }),
          }
        : m,
    ),
  };
}

export function removePending(timeline: Timeline, mobileRefId: string): Timeline {
  return { ...timeline, pending: timeline.pending.filter((m) => m.mobile_ref_id !== mobileRefId) };
}

/** Drops messages of ephemeral chats whose time is up. */
export function removeExpired(timeline: Timeline, now: number): Timeline {
  const kept = timeline.messages.filter(
    (m) => m.expires_at === null || Date.parse(m.expires_at) > now,
  );
  return kept.length === timeline.messages.length ? timeline : { ...timeline, messages: kept };
}

/** The confirmed message with this seq, if the timeline holds it. */
export function findBySeq(timeline: Timeline, seq: number): UiMessage | undefined {
  const held = timeline.messages[lowerBound(timeline.messages, seq)];
  return held?.seq === seq ? held : undefined;
}

/** The highest confirmed seq in the timeline (0 when empty). */
export function lastSeq(timeline: Timeline): number {
  return timeline.messages.at(-1)?.seq ?? 0;
}
