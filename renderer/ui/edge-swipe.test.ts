import { describe, expect, it } from 'vitest';
import { EDGE_PX, EdgeSwipe, SWIPE_PX } from './edge-swipe.js';

describe('EdgeSwipe', () => {
  it('opens on a rightward drag that starts at the left edge', () => {
    const swipe = new EdgeSwipe();
    swipe.down(2, 300, false);
    expect(swipe.move(20, 302)).toBeNull();
    expect(swipe.move(2 + SWIPE_PX, 305)).toBe('open');
    // Once recognised, the rest of the drag does nothing more.
    expect(swipe.move(200, 305)).toBeNull();
  });

  it('ignores drags that start away from the edge', () => {
    const swipe = new EdgeSwipe();
    swipe.down(EDGE_PX + 1, 300, false);
    expect(swipe.move(300, 300)).toBeNull();
  });

  it('ignores mostly vertical drags (scrolling) even from the edge', () => {
    const swipe = new EdgeSwipe();
    swipe.down(5, 100, false);
    expect(swipe.move(30, 200)).toBeNull();
    expect(swipe.move(200, 210)).toBeNull();
  });

  it('needs the drag to be flat: far sideways but as far down does not count', () => {
    const swipe = new EdgeSwipe();
    swipe.down(5, 100, false);
    expect(swipe.move(5 + SWIPE_PX, 100 + SWIPE_PX)).toBeNull();
  });

  it('closes on a leftward drag while open, anywhere', () => {
    const swipe = new EdgeSwipe();
    swipe.down(250, 300, true);
    expect(swipe.move(260, 300)).toBeNull();
    expect(swipe.move(250 - SWIPE_PX, 300)).toBe('close');
  });

  it('claims sideways drags it is watching, not vertical ones or unwatched ones', () => {
    const swipe = new EdgeSwipe();
    expect(swipe.claims(30, 300)).toBe(false);
    swipe.down(2, 300, false);
    expect(swipe.claims(20, 305)).toBe(true);
    expect(swipe.claims(10, 340)).toBe(false);
  });

  it('keeps claiming a recognised drag until it ends, whatever its later moves', () => {
    const swipe = new EdgeSwipe();
    swipe.down(2, 300, false);
    expect(swipe.move(80, 300)).toBe('open');
    expect(swipe.claims(90, 500)).toBe(true);
    swipe.end();
    expect(swipe.claims(90, 300)).toBe(false);
  });

  it('forgets a drag once the pointer is lifted', () => {
    const swipe = new EdgeSwipe();
    swipe.down(2, 300, false);
    swipe.end();
    expect(swipe.move(200, 300)).toBeNull();
  });
});
