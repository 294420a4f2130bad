/**
 * Unsent text, per chat, so that nothing typed is lost: it stays with its chat when switching
 * chats, and it survives a reload of the page (sessionStorage: this tab only, gone when the tab
 * closes). A failed message's "Edit" puts its text back here.
 *
 * Bounded: at most DRAFT_LIMITS.chats drafts and DRAFT_LIMITS.storedChars characters are
 * stored, the least recently edited dropped first; a single draft longer than
 * HARD_LIMITS.contentChars (which no relay accepts) is kept in memory only. Saving is deferred
 * by SAVE_DELAY_MS so a long draft is not serialised on every key, and done at once when the
 * page is hidden or unloaded.
 */
import { HARD_LIMITS } from '../../relay/protocol/events.js';
import type { KeyValueStorage } from '../net/storage.js';

export const DRAFT_LIMITS = {
  /** Chats with a stored draft. */
  chats: 50,
  /** All stored drafts together, in UTF-16 code units (sessionStorage holds about 5 MB). */
  storedChars: 1_000_000,
} as const;

const SAVE_DELAY_MS = 300;
const STORAGE_PREFIX = 'parley.drafts:';

type Listener = () => void;

export class Drafts {
  readonly #storage: KeyValueStorage | null;
  readonly #key: string;
  /** chat id → text; Map order is the order of last edit, oldest first. */
  readonly #texts = new Map<string, string>();
  readonly #listeners = new Set<Listener>();
  readonly #restoreListeners = new Set<(chatId: string) => void>();
  #saveTimer: ReturnType<typeof setTimeout> | null = null;

  /** `scope` keeps one server's and one user's drafts apart (chat ids are per server). */
  constructor(storage: KeyValueStorage | null, scope: string) {
    this.#storage = storage;
    this.#key = STORAGE_PREFIX + scope;
    this.#load();
  }

  get(chatId: string): string {
    return this.#texts.get(chatId) ?? '';
  }

  /** The draft of a chat as typed; an empty one is forgotten. */
  set(chatId: string, text: string): void {
    if (this.get(chatId) === text) return;
    this.#texts.delete(chatId);
    if (text !== '') this.#texts.set(chatId, text);
    this.#changed();
  }

  /**
   * Puts a message's text back into a chat's composer (a failed message's "Edit"), after any
   * draft already there, and asks that composer to take focus.
   */
  restore(chatId: string, text: string): void {
    const current = this.get(chatId);
    this.set(chatId, current.trim() === '' ? text : `${current.replace(/\s+$/, '')}\n\n${text}`);
    for (const listener of this.#restoreListeners) listener(chatId);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onRestore(listener: (chatId: string) => void): () => void {
    this.#restoreListeners.add(listener);
    return () => this.#restoreListeners.delete(listener);
  }

  /** Writes pending changes now (the page is going away). */
  flush(): void {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    this.#save();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
    if (this.#storage === null || this.#saveTimer !== null) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      this.#save();
    }, SAVE_DELAY_MS);
  }

  #save(): void {
    if (this.#storage === null) return;
    const stored = storedDrafts([...this.#texts]);
    try {
      if (stored.length === 0) this.#storage.remove(this.#key);
      else this.#storage.set(this.#key, JSON.stringify(stored));
    } catch (error) {
      // Quota exceeded or storage blocked: the drafts stay in memory for this page's life.
      console.warn('parley: could not save drafts', error);
    }
  }

  #load(): void {
    if (this.#storage === null) return;
    let raw: string | null;
    try {
      raw = this.#storage.get(this.#key);
    } catch (error) {
      console.warn('parley: could not read drafts', error);
      return;
    }
    if (raw === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Corrupt (written by something else): start without drafts, overwritten on next save.
      return;
    }
    if (!Array.isArray(parsed)) return;
    for (const entry of parsed as unknown[]) {
      if (
        Array.isArray(entry) &&
        entry.length === 2 &&
        typeof entry[0] === 'string' &&
        typeof entry[1] === 'string' &&
        entry[1] !== ''
      ) {
        this.#texts.set(entry[0], entry[1]);
      }
    }
  }
}

/**
 * The drafts that fit the bounds, newest edits kept first, returned oldest first (the order to
 * restore them in).
 */
export function storedDrafts(
  oldestFirst: readonly (readonly [string, string])[],
): [string, string][] {
  const kept: [string, string][] = [];
  let chars = 0;
  for (let i = oldestFirst.length - 1; i >= 0 && kept.length < DRAFT_LIMITS.chats; i--) {
    const entry = oldestFirst[i];
    if (entry === undefined) continue;
    const [chatId, text] = entry;
    if (text.length > HARD_LIMITS.contentChars) continue;
    if (chars + text.length + chatId.length > DRAFT_LIMITS.storedChars) continue;
    chars += text.length + chatId.length;
    kept.push([chatId, text]);
  }
  return kept.reverse();
}

const pageDrafts = new Map<string, Drafts>();

/** The drafts of one server and user in this tab (created on first use, saved on page hide). */
export function draftsFor(scope: string): Drafts {
  let drafts = pageDrafts.get(scope);
  if (drafts === undefined) {
    drafts = new Drafts(tabStorage(), scope);
    pageDrafts.set(scope, drafts);
    const save = drafts;
    window.addEventListener('pagehide', () => save.flush());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') save.flush();
    });
  }
  return drafts;
}

function tabStorage(): KeyValueStorage | null {
  try {
    const storage = window.sessionStorage;
    return {
      get: (key) => storage.getItem(key),
      set: (key, value) => storage.setItem(key, value),
      remove: (key) => storage.removeItem(key),
    };
  } catch (error) {
    // Storage is blocked (sandboxed frame): drafts last as long as the page.
    console.warn('parley: no sessionStorage for drafts', error);
    return null;
  }
}
