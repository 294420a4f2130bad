/**
 * What erase tests read: a relay's SQLite files as bytes, searched for marker texts wherever
 * they are (free pages, old WAL frames, index segments included).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';

/** The files of a relay's SQLite database in its data folder. */
export const SQLITE_FILES = ['parley.db', 'parley.db-wal', 'parley.db-shm'];

/**
 * Which of `markers` occur in any of the files (those that exist). Each marker is looked for by
 * its last `tail` characters when given: the FTS5 search index stores its words
 * prefix-compressed (a word shares its first bytes with the one before it), but always writes
 * the tail out.
 */
export function foundInFiles(
  paths: readonly string[],
  markers: readonly string[],
  { tail }: { tail?: number } = {},
): string[] {
  const contents = paths.filter((path) => existsSync(path)).map((path) => readFileSync(path));
  return markers.filter((marker) => {
    const needle = tail === undefined ? marker : marker.slice(-tail);
    return contents.some((bytes) => bytes.includes(needle));
  });
}

/** foundInFiles over a data folder's SQLite files. */
export function foundInDataDir(
  dir: string,
  markers: readonly string[],
  options: { tail?: number } = {},
): string[] {
  return foundInFiles(
    SQLITE_FILES.map((name) => joinPath(dir, name)),
    markers,
    options,
  );
}
