/**
 * CPU time and memory of server processes, read from /proc (Linux only). CPU is utime+stime, in ticks of
 * `CLK_TCK` (100 per second on Linux), so one sample is good to 10 ms.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

interface StatLine {
  ppid: number;
  /** utime + stime of the process itself. */
  cpuTicks: number;
  /** stime alone: time in the kernel (for a relay, mostly socket writes). */
  systemTicks: number;
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
  // After the name: state(3) ppid(4) ... utime(14) stime(15), i.e. indexes 1, 11 and 12 here.
  return {
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    systemTicks: Number(fields[12]),
  };
}

/** Every live process's stat line, by pid: one scan of /proc. */
function allStats(): Map<number, StatLine> {
  const stats = new Map<number, StatLine>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) stats.set(Number(name), stat);
  }
  return stats;
}

/** `root` and every descendant of it among `stats`. */
function descendants(root: number, stats: ReadonlyMap<number, StatLine>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
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

/** The pid and every live descendant of it. */
export function processTree(root: number): number[] {
  return descendants(root, allStats());
}

/** CPU seconds (user + system) used so far by the given processes themselves. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / TICKS_PER_SECOND;
}

/** How often {@link TreeCpuMeter} reads its process trees. */
const TREE_SAMPLE_MS = 100;

/**
 * CPU used by process trees (PostgreSQL forks a backend per connection) over a window: every
 * 100 ms it reads each live process and keeps, per pid, the ticks at its first and latest
 * reading; the total is the sum of the differences, so a process's CPU from before the window
 * never counts. A process born in the window counts from zero; one that exits loses at most its
 * last 100 ms. (The parent's cutime would be wrong here: a backend that exits mid-window hands its
 * whole life's CPU, set-up included, to the postmaster.)
 */
export class TreeCpuMeter {
  readonly #roots: readonly number[];
  readonly #first = new Map<number, number>();
  readonly #latest = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;
  #sampling = true;

  constructor(roots: readonly number[]) {
    this.#roots = roots;
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), TREE_SAMPLE_MS);
  }

  #sample(initial: boolean): void {
    if (!this.#sampling) return;
    // One scan of /proc per sample serves every root.
    const stats = allStats();
    for (const root of this.#roots) {
      for (const pid of descendants(root, stats)) {
        const stat = stats.get(pid);
        if (stat === undefined) continue;
        if (!this.#first.has(pid)) this.#first.set(pid, initial ? stat.cpuTicks : 0);
        this.#latest.set(pid, stat.cpuTicks);
      }
    }
  }

  /** Stops sampling and returns the CPU seconds used by the trees since the meter was made. */
  stop(): number {
    this.#sample(false);
    this.#sampling = false;
    clearInterval(this.#timer);
    let ticks = 0;
    for (const [pid, latest] of this.#latest) ticks += latest - (this.#first.get(pid) ?? 0);
    return ticks / TICKS_PER_SECOND;
  }
}

/** Kernel (system) CPU seconds used so far by the given processes themselves. */
export function systemSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.systemTicks ?? 0;
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
