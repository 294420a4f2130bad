/**
 * IPC without Electron, for tests: an `ipcMain`-shaped object the real router registers on, and
 * a bridge (the same createBridge the preload uses) whose calls go through it. Arguments and
 * results are structured-cloned, as Electron's IPC does, and every call comes from a chosen frame.
 */
import type { EventMap, ParleyDesktopBridge } from '../../shared/bridge.js';
import { createBridge } from '../../shared/create-bridge.js';
import type { IpcEventLike, IpcMainLike, IpcSenderFrame } from '../ipc-router.js';

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown;

export class LoopbackIpc implements IpcMainLike {
  readonly #handlers = new Map<string, Listener>();
  readonly #listeners = new Map<string, Listener[]>();
  readonly #events = new Map<string, Set<(payload: unknown) => void>>();

  handle(channel: string, listener: Listener): void {
    if (this.#handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.#handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.#handlers.delete(channel);
  }
  on(channel: string, listener: Listener): this {
    this.#listeners.set(channel, [...(this.#listeners.get(channel) ?? []), listener]);
    return this;
  }
  removeAllListeners(channel: string): this {
    this.#listeners.delete(channel);
    return this;
  }

  get channels(): string[] {
    return [...this.#handlers.keys(), ...this.#listeners.keys()];
  }

  async invoke(
    frame: IpcSenderFrame | null,
    channel: string,
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = this.#handlers.get(channel);
    if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
    return structuredClone(await handler({ senderFrame: frame }, ...structuredClone(args)));
  }

  send(frame: IpcSenderFrame | null, channel: string, ...args: unknown[]): void {
    for (const listener of this.#listeners.get(channel) ?? [])
      listener({ senderFrame: frame }, ...structuredClone(args));
  }

  /** What main.ts does with webContents.send. */
  emit<C extends keyof EventMap>(channel: C, payload: EventMap[C]): void {
    for (const listener of this.#events.get(channel) ?? []) listener(structuredClone(payload));
  }

  /** The renderer's view: the bridge object, calling from `frame`. */
  bridge(frame: IpcSenderFrame): ParleyDesktopBridge {
    return createBridge({
      invoke: (channel, ...args) => this.invoke(frame, channel, ...args) as never,
      send: (channel, ...args) => this.send(frame, channel, ...args),
      subscribe: (channel, listener) => {
        const set = this.#events.get(channel) ?? new Set();
        this.#events.set(channel, set);
        const wrapped = listener as (payload: unknown) => void;
        set.add(wrapped);
        return () => {
          set.delete(wrapped);
        };
      },
    });
  }
}
