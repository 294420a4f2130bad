/**
 * @mentions: `@Ana` or `@Ana Lima` mentions the member with that display name (case-insensitive),
 * when the name is followed by the end of the text or a character that cannot continue a name.
 * Shared by the relay (notifications) and the UI (highlighting).
 */

const NAME_CONTINUES = /[\p{L}\p{N}_-]/u;

export function findMentions(
  content: string,
  members: Iterable<{ id: string; name: string }>,
): string[] {
  if (!content.includes('@')) return [];
  const text = content.toLocaleLowerCase('en');
  const found: string[] = [];
  for (const member of members) {
    const needle = `@${member.name.toLocaleLowerCase('en')}`;
    let at = text.indexOf(needle);
    while (at !== -1) {
      // A whole code point: a letter outside the BMP (say 𠀋) must continue the name too.
      const next = text.codePointAt(at + needle.length);
      if (next === undefined || !NAME_CONTINUES.test(String.fromCodePoint(next))) {
        found.push(member.id);
        break;
      }
      at = text.indexOf(needle, at + 1);
    }
  }
  return found;
}
