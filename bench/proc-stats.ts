/**
 * CPU time and memory of server processes, read from /proc (Linux only). CPU is utime+stime of
 * the process and its live descendants (PostgreSQL forks a backend per connection), in ticks of
 * `CLK_TCK` (100 per second on Linux), so one sample is good to 10 ms.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

interface StatLine {
  ppid: number;
  /** utime + stime of the process itself. */
  cpuTicks: number;
  /** cutime + cstime: what its children that exited and were reaped used. */
  reapedTicks: number;
}

function readStat(pid: number): StatLine | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // The process exited between listing and reading: it has no CPU time left to count.
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17), i.e.
  // indexes 1, 11, 12, 13 and 14 here.
  return {
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    reapedTicks: Number(fields[13]) + Number(fields[14]),
  };
}

/** The pid and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === null) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds (user + system) used so far by the given processes or, with `tree`, by their
 * process trees. A tree's total also counts children that already exited (their time moved to
 * the parent's cutime/cstime when it reaped them: PostgreSQL backends come and go), so it only
 * ever grows.
 */
export function cpuSeconds(pids: readonly number[], options: { tree?: boolean } = {}): number {
  let ticks = 0;
  for (const root of pids) {
    for (const pid of options.tree === true ? processTree(root) : [root]) {
      const stat = readStat(pid);
      if (stat === null) continue;
      ticks += stat.cpuTicks + (options.tree === true ? stat.reapedTicks : 0);
    }
  }
  return ticks / TICKS_PER_SECOND;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Resident set size in bytes, summed over the processes. */
export function rssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusField(pid, 'VmRSS'), 0);
}

/** Peak resident set size (VmHWM) in bytes over each process's life, summed. */
export function peakRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + statusField(pid, 'VmHWM'), 0);
}

/** The 1-minute load average, to say how busy the machine was. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
