/**
 * A message open for editing, in place of its text: a textarea with the composer's length rule
 * (composer-limit.ts). Enter saves, Shift+Enter adds a newline, Esc cancels (nothing saves while
 * an input method is composing). The text lives in the store (`editing`), so it survives the
 * virtual list unmounting the row.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { composerLength, counterText, tooLongReason } from './composer-limit.js';

export function MessageEditor({
  text,
  onChange,
  onSave,
  onCancel,
}: {
  text: string;
  onChange(text: string): void;
  /** Saves the text; resolves to why it was not saved, or null once it was. */
  onSave(text: string): string | null;
  onCancel(): void;
}) {
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const problemId = useId();
  const counterId = useId();
  const hintId = useId();
  const length = composerLength(text);
  const over = length.over > 0;

  // Focus with the caret after the text, as the composer does.
  useEffect(() => {
    const input = inputRef.current;
    if (input === null) return;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }, []);

  function save() {
    if (over) {
      setProblem(tooLongReason(length).replace('Not sent', 'Not saved'));
      return;
    }
    setProblem(onSave(text));
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
      return;
    }
    if (event.key !== 'Enter' || event.shiftKey || event.altKey) return;
    event.preventDefault();
    save();
  }

  const describedBy = [
    hintId,
    problem === null ? null : problemId,
    length.visible ? counterId : null,
  ]
    .filter((id) => id !== null)
    .join(' ');
  return (
    <div className="msg-editor">
      <textarea
        ref={inputRef}
        className={`msg-editor-input${over ? ' is-over' : ''}`}
        aria-label="Edit message"
        aria-describedby={describedBy}
        aria-invalid={over ? true : undefined}
        rows={1}
        value={text}
        onChange={(event) => {
          onChange(event.target.value);
          setProblem(null);
        }}
        onKeyDown={onKeyDown}
      />
      {problem === null ? null : (
        <p id={problemId} className="msg-editor-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="msg-editor-foot">
        <p id={hintId} className="msg-editor-hint">
          <kbd>Esc</kbd> to cancel · <kbd>Enter</kbd> to save
        </p>
        {length.visible ? (
          <p id={counterId} className={`composer-counter${over ? ' is-over' : ''}`}>
            <span className="sr-only">Length: </span>
            {counterText(length)}
          </p>
        ) : null}
        <button type="button" className="button small" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button small primary" onClick={save}>
          Save
        </button>
      </div>
    </div>
  );
}
