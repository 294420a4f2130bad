/**
 * The relay flags the bench passes: a `--baseline-relay` checkout older than a limit must not get
 * `--limit` for it (it would exit 2 on the unknown name), while the current relay gets them all.
 * Uses real files: a fake older checkout (its options.ts without the newest limit) and this one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RELAY_CLI } from '../relay/testing/relay-process.js';
import {
  baselineKnowsEvent,
  baselineKnowsFlag,
  baselineKnowsLimit,
  parleyArgs,
} from './targets.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function limitsIn(args: readonly string[]): string[] {
  return args.flatMap((arg, index) =>
    args[index - 1] === '--limit' ? [arg.slice(0, arg.indexOf('='))] : [],
  );
}

describe('bench relay flags', () => {
  it('passes maxConnectionsPerAddress only to a relay whose options.ts knows it', () => {
    const checkout = mkdtempSync(join(tmpdir(), 'parley-old-checkout-'));
    dirs.push(checkout);
    mkdirSync(join(checkout, 'relay'));
    writeFileSync(
      join(checkout, 'relay', 'options.ts'),
      'export const DEFAULT_LIMITS = { messagesPerSecond: 20, messageBurst: 50, maxConnections: 50_000 };\n',
    );
    const old = parleyArgs('/tmp/x', {
      knowsLimit: baselineKnowsLimit(join(checkout, 'relay', 'cli.ts')),
    });
    expect(limitsIn(old)).toEqual(['messagesPerSecond', 'messageBurst', 'maxConnections']);

    const current = parleyArgs('/tmp/x', { knowsLimit: baselineKnowsLimit(RELAY_CLI) });
    expect(limitsIn(current)).toContain('maxConnectionsPerAddress');
    expect(limitsIn(current)).toEqual(limitsIn(parleyArgs('/tmp/x')));
  });

  it("finds the limits of a checkout in either layout: flat relay/ or issue 17's folders", () => {
    // This checkout: relay/cli/cli.ts, its limits in relay/core/options.ts. A limit name that
    // does not exist is unknown (had options.ts not been found, every name would be "known").
    const current = baselineKnowsLimit(RELAY_CLI);
    expect(current('maxConnectionsPerAddress')).toBe(true);
    expect(current('noSuchLimit')).toBe(false);

    const checkout = mkdtempSync(join(tmpdir(), 'parley-layered-checkout-'));
    dirs.push(checkout);
    mkdirSync(join(checkout, 'relay', 'cli'), { recursive: true });
    mkdirSync(join(checkout, 'relay', 'core'));
    writeFileSync(
      join(checkout, 'relay', 'cli', 'cli-args.ts'),
      'export const USAGE = `--plain --no-mdns`;\n',
    );
    writeFileSync(
      join(checkout, 'relay', 'core', 'options.ts'),
      'export const DEFAULT_LIMITS = { messagesPerSecond: 20, searchesPerMinute: 60 };\n',
    );
    const cli = join(checkout, 'relay', 'cli', 'cli.ts');
    expect(limitsIn(parleyArgs('/tmp/x', { knowsLimit: baselineKnowsLimit(cli) }))).toEqual([
      'messagesPerSecond',
      'searchesPerMinute',
    ]);
    expect(baselineKnowsFlag(cli, '--plain')).toBe(true);
    expect(baselineKnowsFlag(cli, '--no-mdns')).toBe(true);
  });

  it('runs the edits scenario against a baseline only when its wire contract has edit_message', () => {
    expect(baselineKnowsEvent(RELAY_CLI, 'edit_message')).toBe(true);
    expect(baselineKnowsEvent(RELAY_CLI, 'no_such_event')).toBe(false);

    // Flat layout (relay/cli.ts, relay/protocol/events.ts), from before issue 17.
    const flat = mkdtempSync(join(tmpdir(), 'parley-old-checkout-'));
    dirs.push(flat);
    mkdirSync(join(flat, 'relay', 'protocol'), { recursive: true });
    writeFileSync(
      join(flat, 'relay', 'protocol', 'events.ts'),
      "export const EVENTS = { sendMessage: 'send_message' } as const;\n",
    );
    expect(baselineKnowsEvent(join(flat, 'relay', 'cli.ts'), 'send_message')).toBe(true);
    expect(baselineKnowsEvent(join(flat, 'relay', 'cli.ts'), 'edit_message')).toBe(false);

    // Issue 17's folders (relay/cli/cli.ts, relay/protocol/events.ts).
    const layered = mkdtempSync(join(tmpdir(), 'parley-layered-checkout-'));
    dirs.push(layered);
    mkdirSync(join(layered, 'relay', 'protocol'), { recursive: true });
    writeFileSync(
      join(layered, 'relay', 'protocol', 'events.ts'),
      "export const EVENTS = { editMessage: 'edit_message' } as const;\n",
    );
    expect(baselineKnowsEvent(join(layered, 'relay', 'cli', 'cli.ts'), 'edit_message')).toBe(true);
  });

  it('switches mDNS off for this relay, and for a baseline only when its CLI knows --no-mdns', () => {
    expect(parleyArgs('/tmp/x')[0]).toBe('--no-mdns');
    expect(baselineKnowsFlag(RELAY_CLI, '--no-mdns')).toBe(true);

    const checkout = mkdtempSync(join(tmpdir(), 'parley-old-checkout-'));
    dirs.push(checkout);
    mkdirSync(join(checkout, 'relay'));
    // An older CLI: it knows --plain but neither advertises nor accepts --no-mdns.
    writeFileSync(join(checkout, 'relay', 'cli-args.ts'), 'export const USAGE = `--plain`;\n');
    const oldCli = join(checkout, 'relay', 'cli.ts');
    expect(baselineKnowsFlag(oldCli, '--plain')).toBe(true);
    expect(baselineKnowsFlag(oldCli, '--no-mdns')).toBe(false);
    expect(parleyArgs('/tmp/x', { noMdns: false })).not.toContain('--no-mdns');
  });
});
