/**
 * Look-alike and invisible names (issue 15, items 5 and 7), against the real command-line relay
 * (a child process) over HTTP: display names that look like a colleague's (another script's
 * letters, invisible characters after it), names that draw nothing, and room names with control
 * characters, bidi overrides, line breaks, lone surrogates, nothing visible, or the look of an
 * existing public room's name. Each is refused with the documented code and creates nothing;
 * ordinary names in any script still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../testing/relay-harness.js';
import {
  startRelayProcessOnTempData,
  stopRelayProcess,
  type TempDataRelayProcess,
} from '../testing/relay-process.js';
import { sqliteSnapshot } from '../testing/sqlite-snapshot.js';

interface SignedIn {
  token: string;
  user: { id: string; name: string };
}

/** How a name shows in a log line: every non-ASCII or invisible character as U+XXXX. */
function shown(name: string): string {
  return [...name]
    .map((char) =>
      /^[\x21-\x7e]$/.test(char)
        ? char
        : `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
    )
    .join(' ');
}

describe('look-alike and invisible names', () => {
  let relay: TempDataRelayProcess;

  beforeAll(async () => {
    relay = await startRelayProcessOnTempData('names', [
      '--limit',
      'sessionAttemptsPerMinute=10000',
      '--limit',
      'roomCreationsPerMinute=10000',
    ]);
  });
  afterAll(() => stopRelayProcess(relay));

  const signUp = (name: string) =>
    api<SignedIn & { error?: { code: string } }>(relay, null, 'POST', '/api/session', {
      name,
      device_unique_id: 'hostile',
    });

  function userNames(): string[] {
    return (sqliteSnapshot(relay.dataDir).users as { name: string }[]).map((u) => u.name).sort();
  }

  it('refuses display names that look like an existing one or show nothing', async () => {
    expect((await signUp('Alice')).status).toBe(201);
    const lookAlikes = [
      '\u0410lice', // Cyrillic capital A
      'Alic\u0435', // Cyrillic small ie
      '\u0391LICE', // Greek capital alpha
      'alice',
      'Alice\u3164', // Hangul filler
      'Alice\u115F', // Hangul choseong filler
      'Alice\u2800', // Braille pattern blank
      'Alice\u034F', // combining grapheme joiner
      'Alice\uFE0F', // variation selector 16
      'Alice\u200B', // zero-width space
      'Al\u200Dice', // zero-width joiner
      '\uFF21lice', // fullwidth A (NFKC)
    ];
    const blanks = [
      '\u3164',
      '\u115F\u1160',
      '\u2800\u2800\u2800',
      '\u034F',
      '\uFE0F',
      '\u200B\u200C',
      ' \u3164 ',
      '\uFFA0',
      '\u0300\u0301',
    ];
    const answers: string[] = [];
    for (const name of [...lookAlikes, ...blanks]) {
      const answer = await signUp(name);
      answers.push(`${shown(name)} → ${answer.status} ${answer.body.error?.code ?? 'created'}`);
      expect(answer.status, shown(name)).not.toBe(201);
      expect(['name_taken', 'invalid_name'], shown(name)).toContain(answer.body.error?.code);
      if (blanks.includes(name)) expect(answer.body.error?.code, shown(name)).toBe('invalid_name');
    }
    console.log(`display names refused (${answers.length}):\n  ${answers.join('\n  ')}`);
    expect(userNames()).toEqual(['Alice']);

    // Ordinary names in any script, an emoji with its variation selector included.
    for (const name of ['Zoë', '李雷', 'Ана', 'Bo ❤️', 'Ana-María', 'Ωmega']) {
      expect((await signUp(name)).status, name).toBe(201);
    }
    // …and a look-alike of one of those is refused too.
    expect((await signUp('Bo ❤')).body.error?.code).toBe('name_taken');
    expect((await signUp('\u0410\u043D\u0430')).body.error?.code).toBe('name_taken'); // "Ана" again
  });

  it('refuses room names with control, invisible or bidi characters, and public look-alikes', async () => {
    const owner = await signUp('Roomer');
    expect(owner.status).toBe(201);
    const create = (name: string, visibility: 'public' | 'private' = 'public') =>
      api<{ chat?: { id: string; name: string }; error?: { code: string } }>(
        relay,
        owner.body.token,
        'POST',
        '/api/chats',
        { name, visibility },
      );
    const bad = [
      'a\u0000b',
      '\u001b[31mred',
      'line\nbreak',
      'tab\there',
      '\u202Eevil',
      'x\u2066y',
      '\u200B\u200B',
      '\u3164',
      '\uD800x', // lone surrogate
      'a\u2028b',
      '\u2800',
    ];
    const answers: string[] = [];
    for (const name of bad) {
      for (const visibility of ['public', 'private'] as const) {
        const answer = await create(name, visibility);
        answers.push(`${visibility} ${shown(name)} → ${answer.status} ${answer.body.error?.code}`);
        expect(answer.status, shown(name)).toBe(400);
        expect(answer.body.error?.code).toBe('invalid_payload');
      }
    }
    const clashes = ['general', 'General', 'G\u0435neral', 'GENERAL\uFE0F', '\uFF47eneral'];
    for (const name of clashes) {
      const answer = await create(name);
      answers.push(`public ${shown(name)} → ${answer.status} ${answer.body.error?.code}`);
      expect(answer.status, shown(name)).toBe(409);
      expect(answer.body.error?.code).toBe('name_taken');
    }
    expect((await create('Design')).status).toBe(201);
    expect((await create('des\u0456gn')).body.error?.code).toBe('name_taken'); // Ukrainian i
    console.log(`room names refused (${answers.length + 1}):\n  ${answers.join('\n  ')}`);

    // A private room may share a name (only its members see it); so may a name in another script.
    expect((await create('general', 'private')).status).toBe(201);
    expect((await create('Общий')).status).toBe(201);
    const rooms = (sqliteSnapshot(relay.dataDir).chats as { name: string; kind: string }[])
      .filter((chat) => chat.kind === 'room')
      .map((chat) => chat.name)
      .sort();
    expect(rooms).toEqual(['Design', 'general', 'general', 'Общий']);
  });
});
