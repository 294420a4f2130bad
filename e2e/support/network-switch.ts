import type { BrowserContext, WebSocketRoute } from '@playwright/test';

/**
 * Takes one browser context off the network and back. `context.setOffline(true)` alone fails
 * HTTP but leaves an open WebSocket alone in Chromium, so every socket of the context goes
 * through a route that passes frames to the real relay: `off()` also closes those sockets (as a
 * dropped connection would, code 1011) and refuses new ones until `on()`.
 */
export class NetworkSwitch {
  #online = true;
  readonly #open = new Set<WebSocketRoute>();

  constructor(private readonly context: BrowserContext) {}

  /** Before the first page loads, so the page's socket is one of the routed ones. */
  async install(): Promise<void> {
    await this.context.routeWebSocket(/\/socket\//, (socket) => {
      if (!this.#online) {
        void socket.close({ code: 1011, reason: 'test: offline' });
        return;
      }
      this.#open.add(socket);
      socket.onClose(() => this.#open.delete(socket));
      socket.connectToServer();
    });
  }

  async off(): Promise<void> {
    this.#online = false;
    await this.context.setOffline(true);
    const open = [...this.#open];
    this.#open.clear();
    await Promise.all(open.map((s) => s.close({ code: 1011, reason: 'test: offline' })));
  }

  async on(): Promise<void> {
    this.#online = true;
    await this.context.setOffline(false);
  }
}
