/**
 * A message's text as React text nodes (never HTML): links as external anchors, @mentions as
 * <mark>. Newlines are kept by CSS (white-space: pre-wrap).
 */
import { memo, useMemo } from 'react';
import { tokenizeMessage, type MentionIndex } from './message-text.js';

export const MessageText = memo(function MessageText({
  content,
  mentions,
  myId,
}: {
  content: string;
  mentions: MentionIndex;
  myId: string | null;
}) {
  const tokens = useMemo(() => tokenizeMessage(content, mentions, myId), [content, mentions, myId]);
  return (
    <>
      {tokens.map((token, i) => {
        switch (token.kind) {
          case 'text':
            return token.text;
          case 'link':
            return (
              <a key={i} href={token.href} target="_blank" rel="noopener noreferrer">
                {token.text}
              </a>
            );
          case 'mention':
            return (
              <mark key={i} className={token.me ? 'mention mention-me' : 'mention'}>
                {token.text}
              </mark>
            );
        }
      })}
    </>
  );
});
