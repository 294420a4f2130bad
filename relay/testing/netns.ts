/**
 * Network namespaces for the mDNS tests, built exactly as ../shared/PLATFORM.md shows: a veth
 * pair for two namespaces, a bridge in a hub namespace for three or more, the 224.0.0.0/4 route
 * in each, and only 10.200.0.0/16 addresses. Multicast never touches the machine's real
 * interfaces. destroy() deletes every namespace (which deletes their links), and an exit hook
 * does the same if the test process dies first. Used by relay/cli/cli-mdns.netns.test.ts and
 * electron/main/discovery.netns.test.ts.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

/** Why the namespace tests cannot run here, or null when they can (root and `ip` present). */
export function netnsSkipReason(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root to create network namespaces (run as root, e.g. in CI)';
  }
  const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) =>
    existsSync(path),
  );
  if (ip === undefined) return 'needs the `ip` command (apt-get install iproute2)';
  return null;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Namespace {
  name: string;
  /** Its 10.200.0.x address. */
  address: string;
}

export interface Netns {
  namespaces: Namespace[];
  /** Runs `node --import tsx SCRIPT` inside a namespace. */
  spawnNode(
    ns: Namespace,
    script: string,
    env: Record<string, string>,
  ): ChildProcessWithoutNullStreams;
  /** Runs `command ...args` inside a namespace, in `cwd` (default: this process's). */
  spawn(
    ns: Namespace,
    command: string,
    args: readonly string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string },
  ): ChildProcessWithoutNullStreams;
  destroy(): void;
}

export interface NetnsOptions {
  /**
   * Route 224.0.0.0/4 over the link (default true). Without it a namespace has a network but no
   * route for multicast: what an mDNS responder meets on a machine without a default route.
   */
  multicastRoute?: boolean;
}

/** Creates `count` namespaces (2: one veth pair; 3+: each on a bridge in a hub namespace). */
export function createNetns(count: number, { multicastRoute = true }: NetnsOptions = {}): Netns {
  const tag = randomBytes(3).toString('hex');
  const namespaces: Namespace[] = Array.from({ length: count }, (_, i) => ({
    name: `parley-${tag}-${i}`,
    address: `10.200.0.${i + 1}`,
  }));
  const hub = `parley-${tag}-hub`;
  const created: string[] = [];
  const destroy = (): void => {
    for (const name of created.splice(0)) {
      try {
        ip('netns', 'del', name);
      } catch (error) {
        // Already gone (deleted by hand, or the kernel tore it down): nothing left to clean.
        process.stderr.write(`ip netns del ${name}: ${String(error)}\n`);
      }
    }
  };
  const onExit = (): void => destroy();
  process.once('exit', onExit);
  try {
    for (const ns of namespaces) {
      ip('netns', 'add', ns.name);
      created.push(ns.name);
    }
    if (count === 2) {
      const [a, b] = namespaces as [Namespace, Namespace];
      const va = `pa${tag}`;
      const vb = `pb${tag}`;
      ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
      ip('link', 'set', va, 'netns', a.name);
      ip('link', 'set', vb, 'netns', b.name);
      for (const [ns, dev] of [
        [a, va],
        [b, vb],
      ] as const) {
        ip('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', dev);
        ip('-n', ns.name, 'link', 'set', 'lo', 'up');
        ip('-n', ns.name, 'link', 'set', dev, 'up');
        if (multicastRoute) ip('-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', dev);
      }
    } else {
      ip('netns', 'add', hub);
      created.push(hub);
      ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', hub, 'link', 'set', 'br0', 'up');
      namespaces.forEach((ns, i) => {
        const dev = `v${tag}${i}`;
        const peer = `b${tag}${i}`;
        ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', peer);
        ip('link', 'set', dev, 'netns', ns.name);
        ip('link', 'set', peer, 'netns', hub);
        ip('-n', hub, 'link', 'set', peer, 'master', 'br0');
        ip('-n', hub, 'link', 'set', peer, 'up');
        ip('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', dev);
        ip('-n', ns.name, 'link', 'set', 'lo', 'up');
        ip('-n', ns.name, 'link', 'set', dev, 'up');
        if (multicastRoute) ip('-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', dev);
      });
    }
  } catch (error) {
    destroy();
    process.off('exit', onExit);
    throw error;
  }
  return {
    namespaces,
    spawnNode: (ns, script, env) =>
      spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', script], {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    spawn: (ns, command, args, options = {}) =>
      spawn('ip', ['netns', 'exec', ns.name, command, ...args], {
        env: options.env ?? process.env,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    destroy: () => {
      destroy();
      process.off('exit', onExit);
    },
  };
}

/** Namespaces this process can see whose names start with `prefix` (to prove cleanup). */
export function listNetns(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}
