/**
 * The message box: Enter sends, Shift+Enter adds a newline (and nothing sends while an input
 * method is composing). Typing is reported to the client, which throttles it and stops it on
 * idle or send. A draft stays with its chat when switching chats. Focus lands here when a chat
 * opens. When the outbox is full, the message is kept here and a clear note says why.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { OUTBOX_LIMIT } from '../net/outbox.js';
import { chatTitle } from '../state/selectors.js';
import { SendIcon } from './Icons.js';
import { useClient, useParley } from './parley-context.js';

/** Unsent drafts by chat id: UI state that outlives the component, kept outside React. */
const drafts = new Map<string, string>();

export function Composer({ chatId }: { chatId: string }) {
  const client = useClient();
  const placeholder = useParley((s) => {
    const chat = s.chats[chatId];
    if (chat === undefined) return 'Message';
    return chat.kind === 'room' ? `Message #${chat.name}` : `Message ${chatTitle(s, chat)}`;
  });
  const dialogOpen = useParley((s) => s.dialog !== null);
  const [text, setText] = useState(() => drafts.get(chatId) ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const problemId = useId();

  useEffect(() => {
    if (!dialogOpen) inputRef.current?.focus();
    // Only when the chat opens: later dialogs return focus where it was on their own.
  }, [chatId]);

  function change(value: string) {
    setText(value);
    setProblem(null);
    if (value === '') drafts.delete(chatId);
    else drafts.set(chatId, value);
    if (value.trim() === '') client.stopTyping(chatId);
    else client.composing(chatId);
  }

  function send() {
    const result = client.send(chatId, text);
    if (result.ok) {
      drafts.delete(chatId);
      setText('');
      setProblem(null);
      return;
    }
    if (result.code === 'outbox_full') {
      setProblem(
        `Not sent: ${OUTBOX_LIMIT} messages are already waiting for the connection. Your message is kept here; send it once you are back online.`,
      );
    } else if (result.code === 'no_chat') {
      setProblem('This chat is no longer available.');
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
    inputRef.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== 'Enter' || event.shiftKey || event.altKey) return;
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    send();
  }

  const empty = text.trim() === '';
  return (
    <form className="composer-form" onSubmit={onSubmit}>
      {problem === null ? null : (
        <div id={problemId} className="composer-problem" role="alert">
          {problem}
        </div>
      )}
      <div className={`composer${empty ? ' is-empty' : ''}`}>
        <textarea
          ref={inputRef}
          className="composer-input"
          aria-label="Message"
          aria-describedby={problem === null ? undefined : problemId}
          placeholder={placeholder}
          rows={1}
          value={text}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => {
            if (text.trim() === '') client.stopTyping(chatId);
          }}
        />
        <button
          type="submit"
          className="send-button"
          aria-label="Send"
          title="Send (Enter)"
          aria-disabled={empty}
        >
          <SendIcon />
        </button>
      </div>
      <p className="composer-hint" aria-hidden="true">
        <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
      </p>
    </form>
  );
}
