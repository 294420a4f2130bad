/**
 * Narrow windows (below 700 px, NARROW_QUERY, the same breakpoint as app.css) show the sidebar
 * as a drawer over the messages instead of a column beside them. It opens from the chat header's
 * "Open sidebar" button or a drag from the left edge (edge-swipe.ts); it closes on Escape, a tap
 * on the scrim, a drag to the left, "Close sidebar", or choosing a chat. While it is open the
 * messages are inert and it is a modal dialog "Sidebar"; focus moves into it (the open chat's
 * entry) and back to where it was. Layout and motion are CSS (app.css, "narrow windows"); this
 * file only holds the open state, the keys, the gesture and the focus.
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { EdgeSwipe, type SwipeAction } from './edge-swipe.js';
import { MenuIcon } from './Icons.js';
import { useServices } from './parley-context.js';

/** Keep in step with the `@media (max-width: 699.98px)` rules in styles/app.css. */
export const NARROW_QUERY = '(max-width: 699.98px)';
/** The id of the sidebar element, for aria-controls. */
export const SIDEBAR_ID = 'sidebar';

export interface SidebarDrawer {
  /** The window is narrow: the sidebar is a drawer. */
  narrow: boolean;
  /** The drawer is open (never while the window is wide). */
  open: boolean;
  show(): void;
  hide(): void;
}

const WIDE: SidebarDrawer = { narrow: false, open: false, show() {}, hide() {} };
export const SidebarDrawerContext = createContext<SidebarDrawer>(WIDE);

export function useSidebarDrawer(): SidebarDrawer {
  return useContext(SidebarDrawerContext);
}

function subscribeNarrow(listener: () => void): () => void {
  const query = window.matchMedia(NARROW_QUERY);
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}

export function useNarrowWindow(): boolean {
  return useSyncExternalStore(subscribeNarrow, () => window.matchMedia(NARROW_QUERY).matches);
}

/**
 * The drawer's state and behaviour, for the workspace to provide. Closes when the open chat
 * changes (a chat chosen in the drawer, the quick switcher, a search result).
 */
export function useSidebarDrawerState(activeChatId: string | null): SidebarDrawer {
  const { store } = useServices();
  const narrow = useNarrowWindow();
  const [requested, setRequested] = useState(false);
  const open = narrow && requested;
  const opener = useRef<HTMLElement | null>(null);
  // Read by the gesture listeners, which must outlive a change of `open` (a drag that opened
  // the drawer goes on after it opened).
  const openNow = useRef(open);
  openNow.current = open;

  const show = useCallback(() => {
    const active = document.activeElement;
    opener.current = active instanceof HTMLElement && active !== document.body ? active : null;
    setRequested(true);
  }, []);
  const hide = useCallback(() => setRequested(false), []);

  // A wide window has no drawer: forget an open one, so narrowing again starts closed.
  useEffect(() => {
    if (!narrow) setRequested(false);
  }, [narrow]);

  const shownChat = useRef(activeChatId);
  useEffect(() => {
    if (shownChat.current !== activeChatId) setRequested(false);
    shownChat.current = activeChatId;
  }, [activeChatId]);

  // Focus into the drawer when it opens, and back when it closes (unless something else, such
  // as the composer of a chat just chosen, took it).
  const wasOpen = useRef(false);
  useEffect(() => {
    const sidebar = document.getElementById(SIDEBAR_ID);
    if (open && !wasOpen.current) {
      const target =
        sidebar?.querySelector<HTMLElement>('[aria-current="page"]') ??
        sidebar?.querySelector<HTMLElement>('nav button, nav a') ??
        sidebar?.querySelector<HTMLElement>('button');
      target?.focus();
    } else if (!open && wasOpen.current) {
      const active = document.activeElement;
      const lost = active === null || active === document.body || sidebar?.contains(active);
      if (lost && opener.current?.isConnected === true) opener.current.focus();
      opener.current = null;
    }
    wasOpen.current = open;
  }, [open]);

  // Escape closes it (a dialog opened from the drawer takes its own Escape first).
  useEffect(() => {
    if (!open) return;
    function onKeyDown(event: KeyboardEvent) {
      if (event.key !== 'Escape' || event.defaultPrevented) return;
      if (store.getState().dialog !== null) return;
      event.preventDefault();
      setRequested(false);
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [open, store]);

  // Drags: from the left edge to open, to the left to close. Fingers are followed with touch
  // events, whose first sideways move is cancelled (non-passive touchmove) so the browser does
  // not take the drag as its own gesture: Chromium otherwise turns a drag from the edge into
  // "swipe back" (overscroll history navigation, which `overscroll-behavior-x` did not stop
  // for touch input in Chromium 156) and cancels the touch's pointer events. Mouse and pen use
  // pointer events.
  useEffect(() => {
    if (!narrow) return;
    const swipe = new EdgeSwipe();
    const act = (action: SwipeAction | null) => {
      if (action === 'open') show();
      else if (action === 'close') setRequested(false);
    };
    const start = (x: number, y: number) => {
      if (store.getState().dialog === null) swipe.down(x, y, openNow.current);
    };
    function onPointerDown(event: PointerEvent) {
      if (event.pointerType === 'touch' || !event.isPrimary || event.button !== 0) return;
      start(event.clientX, event.clientY);
    }
    function onPointerMove(event: PointerEvent) {
      if (event.pointerType === 'touch' || !event.isPrimary) return;
      act(swipe.move(event.clientX, event.clientY));
    }
    function onTouchStart(event: TouchEvent) {
      const touch = event.touches[0];
      if (event.touches.length !== 1 || touch === undefined) return swipe.end();
      start(touch.clientX, touch.clientY);
    }
    function onTouchMove(event: TouchEvent) {
      const touch = event.touches[0];
      if (touch === undefined) return;
      if (event.cancelable && swipe.claims(touch.clientX, touch.clientY)) event.preventDefault();
      act(swipe.move(touch.clientX, touch.clientY));
    }
    const onEnd = () => swipe.end();
    const listening = new AbortController();
    const options = { passive: true, signal: listening.signal };
    window.addEventListener('pointerdown', onPointerDown, options);
    window.addEventListener('pointermove', onPointerMove, options);
    window.addEventListener('pointerup', onEnd, options);
    window.addEventListener('touchstart', onTouchStart, options);
    window.addEventListener('touchmove', onTouchMove, { passive: false, signal: listening.signal });
    window.addEventListener('touchend', onEnd, options);
    window.addEventListener('touchcancel', onEnd, options);
    return () => listening.abort();
  }, [narrow, show, store]);

  return useMemo(() => ({ narrow, open, show, hide }), [narrow, open, show, hide]);
}

/** "Open sidebar": the chat header's first button on narrow windows; absent on wide ones. */
export function SidebarToggle() {
  const drawer = useSidebarDrawer();
  if (!drawer.narrow) return null;
  return (
    <button
      type="button"
      className="icon-button sidebar-toggle"
      aria-label="Open sidebar"
      title="Open sidebar"
      aria-expanded={drawer.open}
      aria-controls={SIDEBAR_ID}
      onClick={drawer.show}
    >
      <MenuIcon />
    </button>
  );
}
