/** Window position and size, remembered across runs and fitted back onto a visible display. */
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from './json-file.js';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export interface WindowState extends WindowBounds {
  maximized: boolean;
}

export interface DisplayArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1100, height: 760, maximized: false };
const MIN_WIDTH = 480;
const MIN_HEIGHT = 360;
/** At least this much of the title bar must be on a display for a saved position to be kept. */
const VISIBLE_MARGIN = 48;

const stateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(MIN_WIDTH).max(20_000),
  height: z.number().int().min(MIN_HEIGHT).max(20_000),
  maximized: z.boolean(),
});

export function loadWindowState(path: string): WindowState {
  const parsed = stateSchema.safeParse(readJsonFile(path));
  return parsed.success ? parsed.data : { ...DEFAULT_WINDOW_STATE };
}

export function saveWindowState(path: string, state: WindowState): void {
  writeJsonFile(path, state);
}

/**
 * Keeps a saved state only if its top edge is visible on one of the displays (a monitor may have
 * been unplugged); otherwise drops the position so the OS centres the window. The size is capped
 * to the largest display.
 */
export function fitToDisplays(state: WindowState, displays: readonly DisplayArea[]): WindowState {
  const maxWidth = Math.max(MIN_WIDTH, ...displays.map((d) => d.width));
  const maxHeight = Math.max(MIN_HEIGHT, ...displays.map((d) => d.height));
  const width = Math.min(state.width, maxWidth);
  const height = Math.min(state.height, maxHeight);
  const { x, y } = state;
  if (x === undefined || y === undefined) return { width, height, maximized: state.maximized };
  const visible = displays.some(
    (d) =>
      x + width - VISIBLE_MARGIN >= d.x &&
      x + VISIBLE_MARGIN <= d.x + d.width &&
      y >= d.y &&
      y + VISIBLE_MARGIN <= d.y + d.height,
  );
  return visible
    ? { x, y, width, height, maximized: state.maximized }
    : { width, height, maximized: state.maximized };
}

/** Coalesces the many move/resize events of a drag into one write. */
export function debounce(
  fn: () => void,
  ms: number,
): { call(): void; flush(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    call() {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    flush() {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
      fn();
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
