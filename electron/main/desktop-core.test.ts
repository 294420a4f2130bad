/**
 * The desktop app's behaviour through the bridge the page sees (the preload's createBridge over
 * a loopback IPC into the real router and the real services), with a real relay where one is
 * needed. Discovery is off here, except through the in-memory mDNS fake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startTestRelay, until } from '../../relay/testing/relay-harness.js';
import type { DiscoveredHost, HostingStatus } from '../shared/bridge.js';
import { connectSources } from './csp.js';
import { parseDeepLink } from './deep-link.js';
import { pinnedRequest } from './pinned-request.js';
import { startDesktop, type Desktop } from './testing/desktop-harness.js';
import { FakeNetwork } from '../../relay/testing/fake-mdns.js';
import { servedFingerprint } from '../../relay/testing/served-certificate.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Whether a TCP connection to host:port is accepted (127.0.0.2 is loopback too: a relay on
 * every interface accepts there, one on 127.0.0.1 refuses). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function desktop(options: Partial<Parameters<typeof startDesktop>[0]> = {}): Desktop {
  const userDataDir = mkdtempSync(join(tmpdir(), 'parley-core-'));
  const app = startDesktop({ userDataDir, ...options });
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  return app;
}

describe('desktop bridge → main process', () => {
  it('hosts a room the page can reach, reports status changes, and stops it', async () => {
    const app = desktop();
    const seen: HostingStatus['state'][] = [];
    const off = app.bridge.hosting.onStatusChanged((s) => seen.push(s.state));
    const started = await app.bridge.hosting.start({ port: 0, displayName: 'Ana' });
    if (!started.ok) throw new Error(started.message);
    expect(started.value).toMatchObject({ state: 'running', advertised: false });
    expect(started.value.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    // Tests stay on loopback (testing/desktop-harness.ts): nothing listens on other interfaces.
    const port = started.value.port ?? 0;
    expect(started.value.lanUrls).toEqual([`https://127.0.0.1:${port}`]);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    expect(await accepts('127.0.0.2', port)).toBe(false);
    // The app trusts its own relay's certificate: announced by the hosting status, then pinned.
    const health = await pinnedRequest(`${started.value.url}/healthz`, app.core.pins);
    expect(health).toMatchObject({
      ok: true,
      value: { status: 200, decision: { kind: 'expected' } },
    });
    // The hosted relay is in the page's connect-src without any reload.
    expect(await app.bridge.relays.allowed()).toContain(started.value.url);
    expect(await app.bridge.hosting.stop()).toMatchObject({
      ok: true,
      value: { state: 'stopped' },
    });
    off();
    expect(seen).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it('builds the invite of the hosted room and tells which certificate a relay is pinned to', async () => {
    const app = desktop();
    expect(await app.bridge.hosting.invite({})).toMatchObject({ ok: false, code: 'not_hosting' });
    const started = await app.bridge.hosting.start({ port: 0, displayName: 'Ana' });
    if (!started.ok) throw new Error(started.message);
    const { url, port, lanUrls } = started.value;
    if (url === null || port === null) throw new Error('no url');
    expect(lanUrls).toEqual([`https://127.0.0.1:${port}`]);
    // The certificate the hosted relay really serves, read by a plain TLS handshake.
    const served = await servedFingerprint(port);
    expect(started.value.tlsFingerprint).toBe(served);

    const invite = await app.bridge.hosting.invite({ room: 'general', roomName: 'general' });
    if (!invite.ok) throw new Error(invite.message);
    expect(invite.value).toMatchObject({ url: `https://127.0.0.1:${port}`, fingerprint: served });
    expect(parseDeepLink(invite.value.link)).toEqual({
      ok: true,
      value: {
        host: '127.0.0.1',
        port,
        room: 'general',
        roomName: 'general',
        fingerprint: served,
        url: `https://127.0.0.1:${port}`,
      },
    });
    expect(await app.bridge.hosting.invite({ lanUrl: 'https://10.0.0.5:4000' })).toMatchObject({
      ok: false,
      code: 'unknown_address',
    });

    // Its own relay is announced by the hosting status until a connection pins it.
    expect(await app.bridge.tls.pinFor(url)).toEqual({
      ok: true,
      value: { url, state: 'announced', fingerprint: served, pinnedAt: null },
    });
    expect(await pinnedRequest(`${url}/healthz`, app.core.pins)).toMatchObject({
      ok: true,
      value: { status: 200, decision: { kind: 'expected' } },
    });
    const pinned = await app.bridge.tls.pinFor(`${url}/`);
    expect(pinned).toMatchObject({
      ok: true,
      value: { url, state: 'pinned', fingerprint: served },
    });
    expect(pinned.ok && typeof pinned.value.pinnedAt).toBe('string');

    expect(await app.bridge.tls.pinFor('10.0.0.5:4000')).toEqual({
      ok: true,
      value: { url: 'http://10.0.0.5:4000', state: 'plain', fingerprint: null, pinnedAt: null },
    });
    expect(await app.bridge.tls.pinFor('https://10.0.0.5:4000')).toEqual({
      ok: true,
      value: { url: 'https://10.0.0.5:4000', state: 'unknown', fingerprint: null, pinnedAt: null },
    });
    expect(await app.bridge.tls.pinFor('javascript:alert(1)')).toMatchObject({
      ok: false,
      code: 'invalid_url',
    });
    expect(await app.bridge.tls.pinFor('file:///etc/passwd')).toMatchObject({
      ok: false,
      code: 'invalid_url',
    });

    await app.bridge.hosting.stop();
    expect(await app.bridge.hosting.invite({})).toMatchObject({ ok: false, code: 'not_hosting' });
    // The pin outlives hosting: a restart with the kept certificate is still trusted.
    expect(await app.bridge.tls.pinFor(url)).toMatchObject({
      ok: true,
      value: { state: 'pinned', fingerprint: served },
    });
  });

  it('probes a typed address against a real relay, and reports failures as values', async () => {
    const relay = await startTestRelay();
    cleanups.push(() => removeDir(relay.dataDir));
    cleanups.push(() => relay.close());
    const app = desktop();
    expect(await app.bridge.discovery.probe(relay.url.replace('http://', ''))).toMatchObject({
      ok: true,
      value: { url: relay.url },
    });
    expect(await app.bridge.discovery.probe('not an address')).toMatchObject({
      ok: false,
      code: 'invalid_address',
    });
    expect(await app.bridge.discovery.probe('127.0.0.1:9')).toMatchObject({
      ok: false,
      code: 'unreachable',
    });
  });

  it('probes a typed address of a TLS relay as https, pinning its certificate on first use', async () => {
    const relay = await startTestRelay({ tls: { mode: 'auto' } });
    cleanups.push(() => removeDir(relay.dataDir));
    cleanups.push(() => relay.close());
    const app = desktop();
    const typed = relay.url.replace('https://', '');
    expect(await app.bridge.discovery.probe(typed)).toMatchObject({
      ok: true,
      value: { url: relay.url },
    });
    expect(app.core.pins.pinned('127.0.0.1', relay.port)).toBe(relay.tlsFingerprint);
    // Chromium's check for the chosen relay then follows the pin.
    await app.bridge.relays.allow(relay.url);
    const electronStyle = `sha256/${Buffer.from((relay.tlsFingerprint ?? '').replace(/:/g, ''), 'hex').toString('base64')}`;
    expect(
      app.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: electronStyle,
        chromiumAccepted: false,
      }),
    ).toBe('accept');
    const other = `sha256/${Buffer.alloc(32, 7).toString('base64')}`;
    const refused: unknown[] = [];
    app.bridge.tls.onWarning((warning) => refused.push(warning));
    expect(
      app.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: other,
        chromiumAccepted: false,
      }),
    ).toBe('refuse');
    await expect.poll(() => refused.length).toBe(1);
    expect(await app.bridge.tls.warnings()).toMatchObject([
      { kind: 'changed', previous: relay.tlsFingerprint },
    ]);
    // Hosts the app does not use as relays are left to Chromium, as are CA-valid certificates.
    expect(
      app.core.verifyCertificate({
        hostname: 'example.com',
        fingerprint: other,
        chromiumAccepted: false,
      }),
    ).toBe('default');
    expect(
      app.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: other,
        chromiumAccepted: true,
      }),
    ).toBe('default');
    // Re-trust through the bridge: only the refused fingerprint, then accepted.
    expect(
      await app.bridge.tls.retrust({
        host: '127.0.0.1',
        port: relay.port,
        fingerprint: 'AB'.repeat(32),
      }),
    ).toMatchObject({ ok: false, code: 'no_pending_change' });
    const presented = Buffer.alloc(32, 7).toString('hex');
    expect(
      await app.bridge.tls.retrust({ host: '127.0.0.1', port: relay.port, fingerprint: presented }),
    ).toEqual({ ok: true, value: null });
    expect(
      app.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: other,
        chromiumAccepted: false,
      }),
    ).toBe('accept');
  });

  it('widens the CSP for a chosen relay and reloads only when the loaded page lacks it', async () => {
    const app = desktop();
    const csp = app.core.cspForDocument();
    expect(connectSources(csp)).toEqual(["'none'"]);
    expect(await app.bridge.relays.allow('10.0.0.5:4000')).toEqual({
      ok: true,
      value: { url: 'http://10.0.0.5:4000', reload: true },
    });
    // The reload comes RELOAD_DELAY_MS later, once.
    await until(() => app.platform.reloads >= 1, 5_000, 'the reload');
    expect(app.platform.reloads).toBe(1);
    expect(connectSources(app.core.cspForDocument())).toEqual([
      'http://10.0.0.5:4000',
      'ws://10.0.0.5:4000',
    ]);
    expect(await app.bridge.relays.allow('http://10.0.0.5:4000/')).toEqual({
      ok: true,
      value: { url: 'http://10.0.0.5:4000', reload: false },
    });
    expect(await app.bridge.relays.allow('file:///etc/passwd')).toMatchObject({
      ok: false,
      code: 'invalid_address',
    });
  });

  it('opens only http(s) links outside', async () => {
    const app = desktop();
    expect(await app.bridge.shell.openExternal('https://example.com/x')).toEqual({
      ok: true,
      value: null,
    });
    expect(await app.bridge.shell.openExternal('file:///etc/passwd')).toMatchObject({
      ok: false,
      code: 'unsafe_url',
    });
    expect(await app.bridge.shell.openExternal('javascript:alert(1)')).toMatchObject({ ok: false });
    expect(app.platform.opened).toEqual(['https://example.com/x']);
  });

  it('shows the unread badge, and hides it and the flashing in do-not-disturb', async () => {
    const app = desktop({ platform: 'darwin' });
    app.bridge.notifications.setBadge(5);
    app.bridge.notifications.flashFrame();
    expect(app.platform.badges.at(-1)?.badge).toEqual({ kind: 'dock', text: '5' });
    expect(app.platform.flashes).toBe(1);
    const changed: boolean[] = [];
    app.bridge.settings.onChanged((s) => changed.push(s.doNotDisturb));
    expect(await app.bridge.settings.set('doNotDisturb', true)).toMatchObject({
      ok: true,
      value: { doNotDisturb: true },
    });
    app.bridge.notifications.flashFrame();
    expect(app.platform.flashes).toBe(1);
    expect(app.platform.badges.at(-1)?.badge).toEqual({ kind: 'dock', text: '' });
    expect(changed).toEqual([true]);
  });

  it('turns the login item on and off with the "start minimised at login" setting (off by default)', async () => {
    const app = desktop();
    expect((await app.bridge.settings.getAll()).startMinimizedAtLogin).toBe(false);
    await app.bridge.settings.set('startMinimizedAtLogin', true);
    await app.bridge.settings.set('startMinimizedAtLogin', false);
    expect(app.platform.loginItem).toEqual([true, false]);
    expect(await app.bridge.settings.set('hostPort', 'x' as unknown as number)).toMatchObject({
      ok: false,
      code: 'invalid_setting',
    });
  });

  it('keeps server profiles, and puts their URLs in the CSP', async () => {
    const app = desktop();
    const saved = await app.bridge.profiles.save({
      label: 'ACME',
      urls: ['https://chat.acme.test'],
      auth: { kind: 'token', token: 't' },
    });
    if (!saved.ok) throw new Error(saved.message);
    expect(await app.bridge.profiles.activate(saved.value.id)).toMatchObject({
      ok: true,
      value: { activeId: saved.value.id },
    });
    expect(connectSources(app.core.cspForDocument())).toEqual([
      'https://chat.acme.test',
      'wss://chat.acme.test',
    ]);
  });

  it('hands over an invite once, and pushes later ones to the page', async () => {
    const app = desktop();
    const invite = {
      host: '10.0.0.5',
      port: 4000,
      room: null,
      roomName: null,
      fingerprint: null,
      url: 'http://10.0.0.5:4000',
    };
    const pushed: string[] = [];
    app.bridge.app.onInvite((i) => pushed.push(i.host));
    app.core.invites.setDeliver(null);
    app.core.openInvite(invite);
    expect(await app.bridge.app.takePendingInvite()).toEqual(invite);
    expect(await app.bridge.app.takePendingInvite()).toBeNull();
    app.core.windowReady();
    app.core.openInvite({ ...invite, host: '10.0.0.6' });
    expect(pushed).toEqual(['10.0.0.6']);
  });

  it('lists discovered hosts live (fake mDNS), marks its own room, and goes quiet when discovery is switched off', async () => {
    const network = new FakeNetwork();
    const app = desktop({ mdns: network.mdns('10.200.0.2') });
    const lists: DiscoveredHost[][] = [];
    app.bridge.discovery.onHostsChanged((hosts) => lists.push(hosts));
    const ben = await network.mdns('10.200.0.3').publish({
      name: 'Ben (bbbb)',
      port: 4100,
      txt: { v: '1', name: 'Ben', id: 'b'.repeat(32) },
    });
    const own = await app.bridge.hosting.start({ port: 0, displayName: 'Ana' });
    expect(own).toMatchObject({ ok: true, value: { advertised: true } });
    const hosts = await app.bridge.discovery.hosts();
    expect(hosts.map((h) => [h.displayName, h.isSelf])).toEqual([
      ['Ana', true],
      ['Ben', false],
    ]);
    await ben.stop();
    expect((await app.bridge.discovery.hosts()).map((h) => h.displayName)).toEqual(['Ana']);
    await app.bridge.settings.set('discoveryEnabled', false);
    await until(
      () => lists.at(-1)?.length === 0 && network.published.size === 0,
      5_000,
      'discovery to stop',
    );
    expect(await app.bridge.discovery.hosts()).toEqual([]);
    expect(network.published.size).toBe(0);
    expect(lists.at(-1)).toEqual([]);
    expect((await app.bridge.hosting.status()).state).toBe('running');
  });

  it('quitting stops hosting cleanly: goodbye sent, relay closed', async () => {
    const network = new FakeNetwork();
    const userDataDir = mkdtempSync(join(tmpdir(), 'parley-core-'));
    cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
    const app = startDesktop({ userDataDir, mdns: network.mdns() });
    const started = await app.bridge.hosting.start({ port: 0, displayName: 'Ana' });
    if (!started.ok) throw new Error(started.message);
    await app.close();
    expect(network.goodbyes).toBe(1);
    await expect(fetch(`${started.value.url}/healthz`)).rejects.toThrow();
  });
});
