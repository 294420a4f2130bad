/**
 * A chat's member list as the member dialog shows it: online people first, then by name; a
 * search narrows it (any part of the name, case and accents ignored); a big room shows the first
 * MEMBER_LIST_SHOWN and says how many more there are. Pure; unit-tested.
 */
import type { UserInfo } from '../state/types.js';

/** Rows rendered at most; searching finds the rest. */
export const MEMBER_LIST_SHOWN = 200;

export interface MemberRow extends UserInfo {
  online: boolean;
  me: boolean;
}

export interface MemberListView {
  rows: MemberRow[];
  /** Members matching the search (all of them without one), shown or not. */
  matching: number;
  online: number;
  total: number;
}

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

export function memberListView(input: {
  members: readonly UserInfo[];
  online: ReadonlySet<string>;
  myId: string | null;
  query: string;
  limit?: number;
}): MemberListView {
  const needle = fold(input.query.trim());
  const all = input.members.map((m) => ({
    id: m.id,
    name: m.name,
    online: input.online.has(m.id),
    me: m.id === input.myId,
  }));
  const matching = all
    .filter((m) => needle === '' || fold(m.name).includes(needle))
    .sort((a, b) => (a.online !== b.online ? (a.online ? -1 : 1) : a.name.localeCompare(b.name)));
  return {
    rows: matching.slice(0, input.limit ?? MEMBER_LIST_SHOWN),
    matching: matching.length,
    online: all.filter((m) => m.online).length,
    total: all.length,
  };
}
