/** A code shown to be copied or typed on another device, and its Copy button. */
import type { ReactNode } from 'react';
import { copyText } from './clipboard.js';

/** The code under its label, in the monospaced box both code dialogs use. */
export function CodeBox({
  label,
  labelId,
  code,
  testId,
}: {
  label: ReactNode;
  labelId: string;
  code: string;
  testId: string;
}) {
  return (
    <div className="code-box">
      <span id={labelId} className="code-label">
        {label}
      </span>
      <code className="code-value" data-testid={testId}>
        {code}
      </code>
    </div>
  );
}

/** A small button that copies `text` and reports the outcome through `onNotice`. */
export function CopyButton({
  text,
  onNotice,
  children,
}: {
  text: string;
  onNotice: (notice: string) => void;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className="button small"
      onClick={() =>
        void copyText(text).then((ok) =>
          onNotice(ok ? 'Copied.' : 'Copying was refused; select the code and copy it.'),
        )
      }
    >
      {children}
    </button>
  );
}
