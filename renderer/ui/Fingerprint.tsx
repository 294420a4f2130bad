/**
 * A certificate fingerprint shown for reading aloud: numbered lines of 4 hex pairs in monospace
 * (fingerprint-format.ts), as a list named after what it is. Text only.
 */
import { fingerprintLines } from './fingerprint-format.js';

export function Fingerprint({
  value,
  label = 'Certificate fingerprint',
}: {
  value: string;
  label?: string;
}) {
  const lines = fingerprintLines(value);
  if (lines === null) {
    return (
      <code className="fingerprint-raw" aria-label={label}>
        {value}
      </code>
    );
  }
  return (
    <ol className="fingerprint" aria-label={label}>
      {lines.map((line, index) => (
        <li key={index}>
          <code>{line}</code>
        </li>
      ))}
    </ol>
  );
}
