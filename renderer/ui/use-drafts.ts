/** The drafts of the signed-in user on the current server (see drafts.ts). */
import { useSyncExternalStore } from 'react';
import { draftsFor, type Drafts } from './drafts.js';
import { useParley } from './parley-context.js';

export function useDrafts(): Drafts {
  const scope = useParley((s) => `${s.serverUrl ?? ''}|${s.me?.id ?? ''}`);
  return draftsFor(scope);
}

/** One chat's draft, re-rendering when it changes (typing, or a failed message's "Edit"). */
export function useDraft(drafts: Drafts, chatId: string): string {
  return useSyncExternalStore(
    (listener) => drafts.subscribe(listener),
    () => drafts.get(chatId),
  );
}
