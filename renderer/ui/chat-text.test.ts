import { describe, expect, it } from 'vitest';
import { chatIntro, leaveRoomText } from './chat-text.js';

const room = { kind: 'room', visibility: 'public', ephemeral_ttl_s: null, is_main: false } as const;

describe('chatIntro', () => {
  it('a private room says only members see it, never "everyone"', () => {
    const intro = chatIntro({ ...room, visibility: 'private' }, 'Project X');
    expect(intro.icon).toBe('lock');
    expect(intro.title).toBe('This is the very beginning of the private room Project X.');
    expect(intro.lines.join(' ')).toMatch(/^Only members can see/);
    expect(intro.lines.join(' ')).not.toMatch(/everyone|#/i);
  });

  it('a public room says anyone can join; the main room that everyone is in', () => {
    expect(chatIntro(room, 'design')).toEqual({
      icon: 'hash',
      title: 'This is the very beginning of #design.',
      lines: [
        'This room is public: anyone on this server can join it and read what is posted here.',
      ],
    });
    expect(chatIntro({ ...room, is_main: true }, 'general').lines).toEqual([
      'Everyone on this server is in this room and sees what is posted here.',
    ]);
  });

  it('a DM is between two people (or one, with oneself)', () => {
    const dm = { ...room, kind: 'dm' } as const;
    expect(chatIntro(dm, 'Bo')).toEqual({
      icon: 'person',
      title: 'This is the beginning of your conversation with Bo.',
      lines: ['Only the two of you can see these messages.'],
    });
    expect(chatIntro(dm, 'Me', { selfDm: true }).lines[0]).toMatch(/^Only you can see/);
  });

  it('a vanishing room says when its messages go, in words', () => {
    expect(chatIntro({ ...room, ephemeral_ttl_s: 3_600 }, 'tmp').lines).toContain(
      'Messages here vanish 1 hour after they are sent.',
    );
    expect(
      chatIntro({ ...room, visibility: 'private', ephemeral_ttl_s: 7 * 86_400 }, 'tmp').lines,
    ).toContain('Messages here vanish 7 days after they are sent.');
  });
});

describe('leaveRoomText', () => {
  it('names the room and says how to come back', () => {
    const hidden = leaveRoomText({ ...room, visibility: 'private' }, 'Project X');
    expect(hidden.title).toBe('Leave Project X?');
    expect(hidden.description).toMatch(/^Project X goes from your list of chats/);
    expect(hidden.comingBack).toMatch(/you need a new invite/);
    const open = leaveRoomText(room, 'design');
    expect(open.title).toBe('Leave #design?');
    expect(open.comingBack).toMatch(/join it again at any time from "Browse rooms"/);
  });
});
