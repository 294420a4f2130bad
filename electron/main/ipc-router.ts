/**
 * Registers every IPC handler on an `ipcMain`-shaped object (Electron's in the app, a fake in
 * tests). Each call is checked twice before a service sees it: the sender must be the top frame
 * of the app's own origin, and the arguments must match the channel's schema. Rejections are
 * programming or security errors: they throw `IpcRejectedError` (the renderer's promise rejects)
 * and are reported; expected failures are Result values from the services.
 */
import type { InvokeMap, SendMap } from '../shared/bridge.js';
import { originOf } from './external-links.js';
import { INVOKE_SCHEMAS, SEND_SCHEMAS, validateArgs } from './ipc-schemas.js';

export interface IpcSenderFrame {
  url: string;
  /** null for a top-level frame. */
  parent: unknown;
}

export interface IpcEventLike {
  senderFrame: IpcSenderFrame | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): unknown;
  removeAllListeners(channel: string): unknown;
}

export type InvokeHandlers = {
  [C in keyof InvokeMap]: (
    ...args: InvokeMap[C]['args']
  ) => InvokeMap[C]['result'] | Promise<InvokeMap[C]['result']>;
};
export type SendHandlers = { [C in keyof SendMap]: (...args: SendMap[C]) => void };

export class IpcRejectedError extends Error {
  constructor(
    readonly code: 'ERR_IPC_SENDER' | 'ERR_IPC_ARGS',
    readonly channel: string,
    message: string,
  ) {
    super(`${channel}: ${message}`);
    this.name = 'IpcRejectedError';
  }
}

/** Only the app's own top-level page may call the main process (never an iframe, never a remote page). */
export function isTrustedSender(frame: IpcSenderFrame | null, appOrigin: string): boolean {
  if (frame === null || frame.parent !== null) return false;
  return originOf(frame.url) === appOrigin;
}

export interface RegisterOptions {
  ipc: IpcMainLike;
  appOrigin: string;
  invoke: InvokeHandlers;
  send: SendHandlers;
  onRejected?: (error: IpcRejectedError) => void;
}

/** Registers everything; the returned function removes it again. */
export function registerIpc(options: RegisterOptions): () => void {
  const { ipc, appOrigin, onRejected } = options;
  const check = (
    channel: string,
    event: IpcEventLike,
    schema: Parameters<typeof validateArgs>[0],
    args: unknown[],
  ): unknown => {
    if (!isTrustedSender(event.senderFrame, appOrigin)) {
      throw new IpcRejectedError(
        'ERR_IPC_SENDER',
        channel,
        `untrusted sender ${event.senderFrame?.url ?? '(gone)'}`,
      );
    }
    const valid = validateArgs(schema, args);
    if (!valid.ok) throw new IpcRejectedError('ERR_IPC_ARGS', channel, valid.message);
    return valid.args;
  };
  const invokeChannels = Object.keys(INVOKE_SCHEMAS) as (keyof InvokeMap)[];
  for (const channel of invokeChannels) {
    ipc.handle(channel, (event, ...args) => {
      let valid: unknown;
      try {
        valid = check(channel, event, INVOKE_SCHEMAS[channel], args);
      } catch (error) {
        if (error instanceof IpcRejectedError) onRejected?.(error);
        throw error;
      }
      const handler = options.invoke[channel] as (...a: unknown[]) => unknown;
      return handler(...(valid as unknown[]));
    });
  }
  const sendChannels = Object.keys(SEND_SCHEMAS) as (keyof SendMap)[];
  for (const channel of sendChannels) {
    ipc.on(channel, (event, ...args) => {
      let valid: unknown;
      try {
        valid = check(channel, event, SEND_SCHEMAS[channel], args);
      } catch (error) {
        // One-way calls have nobody to reject to: report and drop.
        if (error instanceof IpcRejectedError) onRejected?.(error);
        return;
      }
      const handler = options.send[channel] as (...a: unknown[]) => void;
      handler(...(valid as unknown[]));
    });
  }
  return () => {
    for (const channel of invokeChannels) ipc.removeHandler(channel);
    for (const channel of sendChannels) ipc.removeAllListeners(channel);
  };
}
