import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  debounce,
  DEFAULT_WINDOW_STATE,
  fitToDisplays,
  loadWindowState,
  saveWindowState,
} from './window-state.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-window-'));
  dirs.push(dir);
  return join(dir, 'window-state.json');
}

const display = { x: 0, y: 0, width: 1920, height: 1080 };

describe('window state', () => {
  it('round-trips through its file', () => {
    const path = tempPath();
    saveWindowState(path, { x: 100, y: 50, width: 1000, height: 700, maximized: true });
    expect(loadWindowState(path)).toEqual({
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
      maximized: true,
    });
  });

  it('falls back to the default for a missing, corrupt or absurd file', () => {
    expect(loadWindowState(tempPath())).toEqual(DEFAULT_WINDOW_STATE);
    const corrupt = tempPath();
    writeFileSync(corrupt, '{');
    expect(loadWindowState(corrupt)).toEqual(DEFAULT_WINDOW_STATE);
    const tiny = tempPath();
    writeFileSync(tiny, JSON.stringify({ width: 3, height: 3, maximized: false }));
    expect(loadWindowState(tiny)).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('keeps a position that is visible and drops one on an unplugged monitor', () => {
    const state = { x: 100, y: 100, width: 800, height: 600, maximized: false };
    expect(fitToDisplays(state, [display])).toEqual(state);
    expect(fitToDisplays({ ...state, x: 2500 }, [display])).toEqual({
      width: 800,
      height: 600,
      maximized: false,
    });
    expect(
      fitToDisplays({ ...state, x: 2500 }, [display, { x: 1920, y: 0, width: 1920, height: 1080 }]),
    ).toMatchObject({ x: 2500 });
  });

  it('caps the size to the largest display', () => {
    expect(fitToDisplays({ width: 5000, height: 4000, maximized: false }, [display])).toEqual({
      width: 1920,
      height: 1080,
      maximized: false,
    });
  });

  it('debounces saves and flushes the last one', () => {
    vi.useFakeTimers();
    try {
      const fn = vi.fn();
      const d = debounce(fn, 500);
      d.call();
      d.call();
      vi.advanceTimersByTime(499);
      expect(fn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(fn).toHaveBeenCalledTimes(1);
      d.call();
      d.flush();
      expect(fn).toHaveBeenCalledTimes(2);
      d.flush();
      expect(fn).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
