/**
 * Older history, paged in as the user scrolls up (`before_seq`), and revealing one message (a
 * search result) by paging until it is in the timeline. Messages come in their current state.
 */
import type { ParleyStore } from '../state/store.js';
import type { ApiClient } from './api-client.js';

/** Older history per page: the relay's maximum, so a long scroll needs few round trips. */
const HISTORY_PAGE = 500;
/** Most history pages loaded to reach a search result (20,000 messages back at 500 a page). */
const REVEAL_MAX_PAGES = 40;

export class OlderHistory {
  /** The older-history page loading per chat, so concurrent callers share it. */
  readonly #loads = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ParleyStore,
    private readonly api: () => ApiClient | null,
  ) {}

  /** Loads the page before the oldest message in view; a call while one loads waits for it. */
  loadOlder(chatId: string): Promise<void> {
    const inFlight = this.#loads.get(chatId);
    if (inFlight !== undefined) return inFlight;
    const load = this.#page(chatId).finally(() => this.#loads.delete(chatId));
    this.#loads.set(chatId, load);
    return load;
  }

  /**
   * Loads older pages until the message with `seq` is in the timeline (at most
   * REVEAL_MAX_PAGES), then asks the list to scroll to it and mark it. False when it could not
   * be loaded (gone, or further back than the limit). The caller opens the chat first.
   */
  async reveal(chatId: string, seq: number): Promise<boolean> {
    for (let page = 0; page <= REVEAL_MAX_PAGES; page += 1) {
      const timeline = this.store.getState().timelines[chatId];
      if (timeline === undefined) break;
      if (timeline.messages.some((message) => message.seq === seq)) {
        this.store.getState().actions.focusMessage(chatId, seq);
        return true;
      }
      const oldest = timeline.messages[0]?.seq;
      if (!timeline.hasOlder || (oldest !== undefined && oldest < seq) || page === REVEAL_MAX_PAGES)
        break;
      await this.loadOlder(chatId);
    }
    return false;
  }

  async #page(chatId: string): Promise<void> {
    const state = this.store.getState();
    const timeline = state.timelines[chatId];
    const api = this.api();
    if (timeline === undefined || !timeline.hasOlder || timeline.loadingOlder || api === null)
      return;
    state.actions.setLoadingOlder(chatId, true);
    const before = timeline.messages[0]?.seq;
    const page = await api.history(chatId, {
      ...(before === undefined ? {} : { before_seq: before }),
      limit: HISTORY_PAGE,
    });
    if (!page.ok) {
      this.store.getState().actions.setLoadingOlder(chatId, false);
      return;
    }
    this.store.getState().actions.prependOlder(chatId, page.data.messages, page.data.has_more);
  }
}
