/**
 * A browser-style WebSocket class over the `ws` client, for client-layer tests in Node against a
 * real relay (renderer/net/*.test.ts): ParleyClient takes it as its `transport`. Every text frame
 * it receives is shown to a tap first, which may record it or drop it (a message lost on the way).
 */
import WebSocket from 'ws';

/**
 * A WebSocket class whose received frames pass through `tap` first: `true` hands the frame on to
 * `onmessage`, `false` drops it.
 */
export function tappedWebSocket(tap: (text: string) => boolean): typeof globalThis.WebSocket {
  return rewritingWebSocket((text) => (tap(text) ? text : null));
}

/**
 * A WebSocket class whose received text frames are rewritten first (a relay that sends garbage):
 * `rewrite` returns the frame to hand on, or null to drop it.
 */
export function rewritingWebSocket(
  rewrite: (text: string) => string | null,
): typeof globalThis.WebSocket {
  class RewritingWebSocket {
    onopen: ((event: unknown) => void) | null = null;
    onclose: ((event: unknown) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    binaryType = 'arraybuffer';
    readonly #ws: WebSocket;
    constructor(url: string | URL, protocols?: string | string[]) {
      this.#ws = new WebSocket(url, protocols);
      this.#ws.onopen = (event) => this.onopen?.(event);
      this.#ws.onclose = (event) => this.onclose?.(event);
      this.#ws.onerror = (event) => this.onerror?.(event);
      this.#ws.onmessage = (event) => {
        const text = rewrite(String(event.data));
        if (text !== null) this.onmessage?.({ data: text });
      };
    }
    get readyState(): number {
      return this.#ws.readyState;
    }
    get bufferedAmount(): number {
      return this.#ws.bufferedAmount;
    }
    send(data: string): void {
      this.#ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.#ws.close(code, reason);
    }
  }
  return RewritingWebSocket as unknown as typeof globalThis.WebSocket;
}
