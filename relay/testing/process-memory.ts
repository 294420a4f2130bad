/**
 * A process's memory as Linux reports it in /proc/<pid>/status, for the hostile tests that
 * flood a relay process and bound how much its RSS may grow.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Memory {
  /** VmRSS: resident now. */
  rssMb: number;
  /** VmHWM: the highest resident since start or since resetPeak(). */
  peakMb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/**
 * Resets VmHWM to the current RSS (Linux clear_refs "5"), so the next peak is this flood's.
 * Where that is not allowed the peak since start counts, which only makes the bound stricter.
 */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted on this kernel or user: see above, the check stays valid.
  }
}
