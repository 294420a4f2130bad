/**
 * Pure timeline updates: confirmed messages ordered by seq without duplicates, own pending
 * messages after them, resume point tracking. No React, no I/O; unit-tested.
 */
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
 * Merges confirmed messages (from a join reply, a live event or a history page). Duplicates by
 * seq are ignored; own pending messages they confirm (same mobile_ref_id) leave the pending list.
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
      if (message.seq > prev) {
        fresh.push(confirmed(message));
        prev = message.seq;
      }
    }
    messages = [...messages, ...fresh];
  } else {
    messages = [...messages];
    for (const message of sorted) {
      const at = lowerBound(messages, message.seq);
      if (messages[at]?.seq === message.seq) continue;
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

/** The highest confirmed seq in the timeline (0 when empty). */
export function lastSeq(timeline: Timeline): number {
  return timeline.messages.at(-1)?.seq ?? 0;
}
