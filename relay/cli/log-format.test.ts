import { describe, expect, it } from 'vitest';
import { createCliLogger, isLogFormat, resolveLogFormat } from './log-format.js';

describe('log format', () => {
  it('is pretty in a terminal and JSON otherwise, unless asked for one', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(['json', 'pretty', 'auto', 'JSON', 'text', ''].filter(isLogFormat)).toEqual([
      'json',
      'pretty',
      'auto',
    ]);
  });

  it('writes one readable line per entry, at once, with its fields and no pid or hostname', () => {
    const written: string[] = [];
    const logger = createCliLogger({
      level: 'info',
      format: 'pretty',
      colorize: false,
      output: { write: (text: string) => written.push(text) },
    });
    logger.info({ port: 4000, url: 'https://127.0.0.1:4000' }, 'relay listening');
    logger.debug('below the level');
    logger.warn('careful');
    // Synchronous: nothing is left in flight for a process.exit() to lose.
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\] INFO: relay listening \{"port":4000,"url":"https:\/\/127\.0\.0\.1:4000"\}\n$/,
    );
    expect(written[1]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: careful\n$/);
    expect(written.join('')).not.toMatch(/pid|hostname|parley-relay|\{"level"/);
  });
});
