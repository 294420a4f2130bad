/**
 * "Ana is typing…" under the composer: a polite live region (role status, name "Typing") that
 * is always present, so screen readers announce it, and takes no box when nobody types.
 */
import { typingLine } from '../state/selectors.js';
import { useParley } from './parley-context.js';

export function TypingLine({ chatId }: { chatId: string }) {
  const line = useParley((s) => typingLine(s, chatId));
  return (
    <div className="typing-band">
      <span className="typing-line" role="status" aria-label="Typing">
        {line === null ? null : (
          <>
            <span className="typing-dots" aria-hidden="true">
              <span />
              <span />
              <span />
            </span>
            {line}
          </>
        )}
      </span>
    </div>
  );
}
