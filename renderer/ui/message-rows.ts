/**
 * Turns a chat's messages into the rows the message list virtualizes: a day separator whenever
 * the local day changes, and each message marked `continued` when it belongs to the group of
 * the one above (same sender, same day, within five minutes). Pure; unit-tested.
 */
import type { UiMessage } from '../state/types.js';

export const GROUP_WINDOW_MS = 5 * 60_000;

export type MessageRow =
  | { kind: 'day'; key: string; day: string; at: number }
  | { kind: 'message'; key: string; message: UiMessage; continued: boolean; own: boolean };

/** The local calendar day of a time, as YYYY-MM-DD. */
export function localDayKey(ms: number): string {
  const d = new Date(ms);
  const mm = String(d.getMonth() + 1).padStart(2, '0');
  const dd = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${mm}-${dd}`;
}

export interface RowOptions {
  myId: string | null;
  dayKey?: (ms: number) => string;
  groupWindowMs?: number;
}

/**
 * A key that survives the pending → sent transition (so a row is not remounted when the relay
 * confirms it): the relay dedupes by (sender, mobile_ref_id) within a chat.
 */
export function messageKey(message: UiMessage): string {
  return `m:${message.sender_id}:${message.mobile_ref_id === '' ? message.message_id : message.mobile_ref_id}`;
}

/** localDayKey, remembering the current day's bounds: one Date per day, not per message. */
function cachedLocalDayKey(): (ms: number) => string {
  let from = Infinity;
  let to = -Infinity;
  let key = '';
  return (ms) => {
    if (ms >= from && ms < to) return key;
    const d = new Date(ms);
    from = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    to = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
    key = localDayKey(ms);
    return key;
  };
}

export function buildRows(messages: readonly UiMessage[], options: RowOptions): MessageRow[] {
  const dayKey = options.dayKey ?? cachedLocalDayKey();
  const windowMs = options.groupWindowMs ?? GROUP_WINDOW_MS;
  const rows: MessageRow[] = [];
  const seen = new Set<string>();
  let previous: { senderId: string; at: number; day: string; failed: boolean } | null = null;
  for (const message of messages) {
    const parsed = Date.parse(message.timestamp);
    // A queued message written before newer confirmed ones still shows below them: keep days
    // and groups moving forward only.
    const at = Math.max(Number.isNaN(parsed) ? 0 : parsed, previous?.at ?? 0);
    const day = dayKey(at);
    if (previous === null || day !== previous.day) {
      let key = `day:${day}`;
      if (seen.has(key)) key = `${key}:${rows.length}`;
      seen.add(key);
      rows.push({ kind: 'day', key, day, at });
      previous = null;
    }
    const continued =
      previous !== null &&
      previous.senderId === message.sender_id &&
      !previous.failed &&
      at - previous.at < windowMs;
    let key = messageKey(message);
    if (seen.has(key)) key = `${key}:${message.message_id}`;
    seen.add(key);
    rows.push({
      kind: 'message',
      key,
      message,
      continued,
      own: options.myId !== null && message.sender_id === options.myId,
    });
    previous = { senderId: message.sender_id, at, day, failed: message.status === 'failed' };
  }
  return rows;
}
