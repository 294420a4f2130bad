/** The main window's options: secure by default (Electron's security checklist), checked by a test. */
import type { BrowserWindowConstructorOptions } from 'electron';
import type { WindowBounds } from './window-state.js';

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist/electron/preload.cjs). */
  preloadPath: string;
  bounds: WindowBounds;
  /** False when starting minimised to the tray. */
  show: boolean;
  icon?: Electron.NativeImage | string;
}

/** The security-relevant web preferences, exported so tests and the e2e spec compare against one list. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: true,
} as const;

export function buildWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    x: input.bounds.x,
    y: input.bounds.y,
    width: input.bounds.width,
    height: input.bounds.height,
    minWidth: 480,
    minHeight: 360,
    show: input.show,
    title: 'Parley',
    backgroundColor: '#1e1f22',
    autoHideMenuBar: true,
    ...(input.icon === undefined ? {} : { icon: input.icon }),
    webPreferences: {
      ...SECURE_WEB_PREFERENCES,
      preload: input.preloadPath,
    },
  };
}
