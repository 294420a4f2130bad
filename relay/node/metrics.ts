/**
 * Prometheus metrics (prom-client) at `GET /metrics`. One registry per relay, so several relays
 * in one process (tests, the desktop app) never mix their numbers; every series carries the
 * node id as the `node` label.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { failure } from '../protocol/errors.js';
import { sendError } from '../http/http-util.js';

export const METRICS_PATH = '/metrics';

/**
 * A request from this computer: the TCP peer is a loopback address, and no proxy says it is
 * forwarding someone else's request (a reverse proxy on the same host would otherwise make every
 * client look local).
 */
export function isLocalClient(req: IncomingMessage): boolean {
  const peer = (req.socket.remoteAddress ?? '').toLowerCase();
  const loopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  const forwarded = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some(
    (header) => req.headers[header] !== undefined,
  );
  return loopback && !forwarded;
}

/** Where errors are counted (`parley_errors_total{kind}`); documented in README.md. */
export type ErrorKind =
  | 'storage_write'
  | 'storage_read'
  | 'bus_publish'
  | 'bus_decode'
  | 'bus_connection'
  | 'database_connection';

export interface MetricsOptions {
  nodeId: string;
  /** Also export Node's process metrics (heap, event-loop lag, CPU): for standalone relays. */
  processMetrics: boolean;
}

/** Values read when Prometheus scrapes, rather than counted as they happen. */
export interface MetricsSources {
  connections: () => number;
  writeQueue: () => number;
  /** Other nodes this node currently hears from (0 for a single node). */
  peers: () => number;
}

export class RelayMetrics {
  readonly registry = new Registry();
  readonly joins: Counter<'topic'>;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly busEvents: Counter<'direction' | 'kind'>;
  readonly busDropped: Counter<'reason'>;
  readonly busLag: Histogram;
  readonly errors: Counter<'kind'>;
  #sources: MetricsSources = { connections: () => 0, writeQueue: () => 0, peers: () => 0 };

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: options.nodeId });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const sources = (): MetricsSources => this.#sources;
    new Gauge({
      name: 'parley_connections',
      help: 'WebSocket connections open on this node',
      registers,
      collect() {
        this.set(sources().connections());
      },
    });
    new Gauge({
      name: 'parley_write_queue',
      help: 'Messages waiting for the database (group commit queue)',
      registers,
      collect() {
        this.set(sources().writeQueue());
      },
    });
    new Gauge({
      name: 'parley_cluster_peers',
      help: 'Other relay nodes this node hears from',
      registers,
      collect() {
        this.set(sources().peers());
      },
    });
    this.joins = new Counter({
      name: 'parley_joins_total',
      help: 'Topic joins accepted, by topic kind (chat, notifications)',
      labelNames: ['topic'],
      registers,
    });
    this.messagesIn = new Counter({
      name: 'parley_messages_in_total',
      help: 'Messages committed by this node (duplicates and failures excluded)',
      registers,
    });
    this.messagesOut = new Counter({
      name: 'parley_messages_out_total',
      help: 'receive_message frames sent to clients of this node',
      registers,
    });
    this.busEvents = new Counter({
      name: 'parley_bus_events_total',
      help: 'Envelopes published to and received from other nodes, by kind (event, control)',
      labelNames: ['direction', 'kind'],
      registers,
    });
    this.busDropped = new Counter({
      name: 'parley_bus_dropped_total',
      help: 'Envelopes not published (bus down, buffer full) or detected missing from a peer',
      labelNames: ['reason'],
      registers,
    });
    this.busLag = new Histogram({
      name: 'parley_bus_lag_seconds',
      help: 'Publish-to-receive time of envelopes from other nodes (clocks must be in sync)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.errors = new Counter({
      name: 'parley_errors_total',
      help: 'Errors by kind (storage_write, storage_read, bus_publish, bus_decode, ...)',
      labelNames: ['kind'],
      registers,
    });
  }

  /** Connects the scrape-time gauges to the running relay. */
  observe(sources: MetricsSources): void {
    this.#sources = sources;
  }

  error(kind: ErrorKind): void {
    this.errors.inc({ kind });
  }

  /**
   * Answers `GET /metrics` from this computer, and `/metrics` from anywhere else with the 404 of
   * an unknown route; returns false for any other request. The metrics
   * carry no secrets but say much about who uses the relay, and a LAN room's port is open to the
   * office.
   */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH || req.method !== 'GET') return false;
    if (!isLocalClient(req)) {
      // The answer of a route that does not exist (not the web client's page either).
      sendError(res, failure('not_found', 'no such route'));
      return true;
    }
    this.#send(res);
    return true;
  }

  /**
   * The `--metrics-listen` listener: `GET /metrics` to anyone who reaches it (the operator bound
   * it to the monitoring network), 404 for anything else.
   */
  serveAll(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) this.#send(res);
    else sendError(res, failure('not_found', 'no such route'));
  }

  #send(res: ServerResponse): void {
    this.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }
}
