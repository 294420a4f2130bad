/**
 * mDNS for real, inside network namespaces this test creates (../shared/PLATFORM.md): the real
 * hosting controller advertises a real embedded relay from one namespace; the real discovery
 * browser runs in another. Both are child processes (`ip netns exec NS node --import tsx ...`).
 * Nothing multicasts on the machine's real interfaces. Skips, saying why, only without root or
 * without `ip`; the namespaces are deleted afterwards, also when an assertion fails.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../relay/protocol/events.js';
import { RELAY_VERSION } from '../../relay/index.js';
import type { DiscoveredHost, HostingStatus, ProbedRelay, Result } from '../shared/bridge.js';
import { endChild, jsonLines, type Lines } from '../../relay/testing/child-lines.js';
import {
  createNetns,
  listNetns,
  netnsSkipReason,
  type Namespace,
  type Netns,
} from '../../relay/testing/netns.js';

const PUBLISHER = fileURLToPath(new URL('./testing/netns-publisher.ts', import.meta.url));
const BROWSER = fileURLToPath(new URL('./testing/netns-browser.ts', import.meta.url));
const WAIT_MS = 15_000;

type Line =
  | { event: 'started'; result: Result<HostingStatus> }
  | { event: 'stopped'; result: Result<HostingStatus> }
  | { event: 'browsing' }
  | { event: 'hosts'; hosts: DiscoveredHost[] }
  | { event: 'probe'; id: string; url: string; result: Result<ProbedRelay>; pinned: string | null }
  | { event: 'mdns-error'; message: string };

const skipReason = netnsSkipReason();
if (skipReason !== null) console.warn(`discovery.netns.test.ts skipped: ${skipReason}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function namespaces(count: number): Netns {
  const netns = createNetns(count);
  const prefix = netns.namespaces[0]?.name.slice(0, -2) ?? 'none';
  cleanups.push(() => {
    netns.destroy();
    expect(listNetns(prefix)).toEqual([]);
  });
  return netns;
}

function start(
  netns: Netns,
  ns: Namespace,
  script: string,
  env: Record<string, string> = {},
): { child: ChildProcess; lines: Lines<Line> } {
  const child = netns.spawnNode(ns, script, env);
  cleanups.push(() => endChild(child));
  return { child, lines: jsonLines<Line>(child) };
}

function publisher(netns: Netns, ns: Namespace, name: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-netns-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return start(netns, ns, PUBLISHER, {
    PARLEY_DATA_DIR: dataDir,
    PARLEY_NAME: name,
    PARLEY_PORT: '4000',
  });
}

async function started(lines: Lines<Line>): Promise<HostingStatus> {
  const line = await lines.waitFor((l) => l.event === 'started', WAIT_MS, 'hosting to start');
  if (line.event !== 'started' || !line.result.ok)
    throw new Error(`hosting failed: ${JSON.stringify(line)}`);
  return line.result.value;
}

/** The first host list from line `from` on that satisfies `pred`. */
const listed = (
  lines: Lines<Line>,
  from: number,
  pred: (hosts: DiscoveredHost[]) => boolean,
  what: string,
) => lines.waitFor((l) => l.event === 'hosts' && pred(l.hosts), WAIT_MS, what, from);

describe('mDNS discovery across network namespaces', () => {
  it('finds a hosted room with its TXT record, reaches it by the advertised address, and sees it leave', async (ctx) => {
    if (skipReason !== null) return ctx.skip(skipReason);
    const netns = namespaces(2);
    const [hostNs, guestNs] = netns.namespaces as [Namespace, Namespace];

    const host = publisher(netns, hostNs, 'Ana');
    const status = await started(host.lines);
    expect(status).toMatchObject({ state: 'running', advertised: true, port: 4000 });
    expect(status.lanUrls).toContain(`https://${hostNs.address}:4000`);
    expect(status.tlsFingerprint).toMatch(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const guest = start(netns, guestNs, BROWSER);
    const seen = await guest.lines.waitFor(
      (l) => l.event === 'hosts' && l.hosts.length === 1,
      WAIT_MS,
      'the host to appear',
    );
    if (seen.event !== 'hosts') throw new Error('unreachable');
    expect(seen.hosts[0]).toMatchObject({
      id: status.relayId,
      displayName: 'Ana',
      port: 4000,
      url: `https://${hostNs.address}:4000`,
      // The TXT record carries the certificate fingerprint (`fp`) across the network.
      fingerprint: status.tlsFingerprint,
      protocolVersion: PROTOCOL_VERSION,
      passcodeRequired: false,
      isSelf: false,
    });
    expect(seen.hosts[0]?.addresses).toContain(hostNs.address);

    const probe = await guest.lines.waitFor((l) => l.event === 'probe', WAIT_MS, 'the HTTPS probe');
    expect(probe).toMatchObject({
      result: {
        ok: true,
        value: { url: `https://${hostNs.address}:4000`, version: RELAY_VERSION },
      },
      // Probed over https, its certificate matched the announced fingerprint, and is now pinned.
      pinned: status.tlsFingerprint,
    });

    const beforeStop = guest.lines.all.length;
    host.child.stdin?.write('stop\n');
    const stopped = await host.lines.waitFor(
      (l) => l.event === 'stopped',
      WAIT_MS,
      'hosting to stop',
    );
    expect(stopped).toMatchObject({
      result: { ok: true, value: { state: 'stopped', advertised: false } },
    });
    // The goodbye packet (TTL 0) removes it at once: no waiting for a TTL to run out.
    await listed(guest.lines, beforeStop, (hosts) => hosts.length === 0, 'the host to disappear');
  });

  it('lists two hosts on a bridged network live, and drops only the one that stops', async (ctx) => {
    if (skipReason !== null) return ctx.skip(skipReason);
    const netns = namespaces(3);
    const [anaNs, guestNs, benNs] = netns.namespaces as [Namespace, Namespace, Namespace];
    const guest = start(netns, guestNs, BROWSER);
    await guest.lines.waitFor((l) => l.event === 'browsing', WAIT_MS, 'the browser');

    const ana = publisher(netns, anaNs, 'Ana');
    const ben = publisher(netns, benNs, 'Ben');
    const both = await guest.lines.waitFor(
      (l) => l.event === 'hosts' && l.hosts.length === 2,
      WAIT_MS,
      'both hosts',
    );
    const [anaStatus, benStatus] = await Promise.all([started(ana.lines), started(ben.lines)]);
    if (both.event !== 'hosts') throw new Error('unreachable');
    expect(both.hosts.map((h) => [h.displayName, h.url, h.id])).toEqual([
      ['Ana', `https://${anaNs.address}:4000`, anaStatus.relayId],
      ['Ben', `https://${benNs.address}:4000`, benStatus.relayId],
    ]);

    const beforeStop = guest.lines.all.length;
    ana.child.stdin?.write('stop\n');
    const after = await listed(
      guest.lines,
      beforeStop,
      (hosts) => hosts.length === 1,
      'Ana to leave',
    );
    if (after.event !== 'hosts') throw new Error('unreachable');
    expect(after.hosts.map((h) => h.displayName)).toEqual(['Ben']);
  });
});
