/**
 * Recognises the horizontal drags that open and close the sidebar drawer on narrow windows:
 * from the left edge to the right opens it (as in Android and iOS apps), a drag to the left
 * while it is open closes it. Pure: fed pointer positions, it answers what to do.
 */

/** A drag that opens must start this close to the left edge (CSS px). */
export const EDGE_PX = 24;
/** How far a drag must travel sideways to count. */
export const SWIPE_PX = 48;

export type SwipeAction = 'open' | 'close';

interface Start {
  x: number;
  y: number;
  action: SwipeAction;
}

export class EdgeSwipe {
  #start: Start | null = null;
  /** A drag already recognised: the rest of it is still ours (see `claims`) until it ends. */
  #recognised = false;

  /** A pointer went down at (x, y); `open` says whether the drawer is open now. */
  down(x: number, y: number, open: boolean): void {
    this.#recognised = false;
    if (open) this.#start = { x, y, action: 'close' };
    else this.#start = x <= EDGE_PX ? { x, y, action: 'open' } : null;
  }

  /** The pointer moved: the action once the drag is far and flat enough, else null. */
  move(x: number, y: number): SwipeAction | null {
    const start = this.#start;
    if (start === null) return null;
    const dx = x - start.x;
    const dy = Math.abs(y - start.y);
    // Mostly vertical: a scroll, not a swipe; stop watching this drag.
    if (dy > SWIPE_PX && dy > Math.abs(dx)) {
      this.#start = null;
      return null;
    }
    const along = start.action === 'open' ? dx : -dx;
    if (along < SWIPE_PX || along < dy * 1.5) return null;
    this.#start = null;
    this.#recognised = true;
    return start.action;
  }

  /**
   * Whether the drag is ours: one being watched that is so far more sideways than up or down,
   * or one already recognised (to its end). The page should then keep the browser from taking
   * it as its own gesture (horizontal scroll, swipe back), for every move: a move let through
   * after the recognition still started Chromium's swipe back.
   */
  claims(x: number, y: number): boolean {
    if (this.#recognised) return true;
    const start = this.#start;
    return start !== null && Math.abs(x - start.x) > Math.abs(y - start.y);
  }

  /** The pointer was lifted or cancelled. */
  end(): void {
    this.#start = null;
    this.#recognised = false;
  }
}
