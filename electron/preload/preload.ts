/**
 * The sandboxed preload: exposes one typed object, `window.parleyDesktop`, built by
 * electron/shared/create-bridge.ts over ipcRenderer. Raw `ipcRenderer` and IPC event objects are
 * never exposed, and each listener registration returns its unsubscribe.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createBridge } from '../shared/create-bridge.js';

const bridge = createBridge({
  invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  send: (channel, ...args) => ipcRenderer.send(channel, ...args),
  subscribe: (channel, listener) => {
    // The event object is not passed on: it would hand the page a reference to ipcRenderer.
    const wrapped = (_event: IpcRendererEvent, payload: Parameters<typeof listener>[0]): void =>
      listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
});

contextBridge.exposeInMainWorld('parleyDesktop', bridge);
