/** Small JSON files in the user-data folder: read tolerantly, written atomically. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Reads and parses a JSON file. A missing file gives `null`; a corrupt one too, after
 * `onCorrupt` is told (a torn write cannot happen, see writeJsonFile, but a user may edit it).
 */
export function readJsonFile(path: string, onCorrupt?: (error: unknown) => void): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    onCorrupt?.(error);
    return null;
  }
}

/** Writes to a temporary file, then renames it over the old one: readers see old or new, never half. */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
