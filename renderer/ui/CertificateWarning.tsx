/**
 * Desktop only: a relay presented a certificate other than the pinned one (or than the one its
 * invite announced), and the app refused the connection (electron/main/cert-pins.ts). Shows the
 * main process's text, which names both fingerprints, and an explicit re-trust for the case the
 * host confirms the new fingerprint. Text only; nothing here decides anything.
 */
import { useEffect, useState } from 'react';
import type { CertWarning } from '../../electron/shared/bridge.js';
import { useServices } from './parley-context.js';

export function CertificateWarning() {
  const { desktop } = useServices();
  const [warnings, setWarnings] = useState<CertWarning[]>([]);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (desktop === null) return;
    let live = true;
    const add = (warning: CertWarning): void =>
      setWarnings((current) => [
        ...current.filter((w) => w.host !== warning.host || w.port !== warning.port),
        warning,
      ]);
    const unsubscribe = desktop.tls.onWarning(add);
    void desktop.tls.warnings().then((pending) => {
      if (live) pending.forEach(add);
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [desktop]);

  const warning = warnings.at(-1);
  if (desktop === null || warning === undefined) return null;

  const dismiss = (): void => setWarnings((current) => current.filter((w) => w !== warning));
  const retrust = async (): Promise<void> => {
    const result = await desktop.tls.retrust({
      host: warning.host,
      port: warning.port,
      fingerprint: warning.presented,
    });
    if (result.ok) dismiss();
    else setFailure(result.message);
  };

  return (
    <div className="certificate-warning" role="alertdialog" aria-labelledby="cert-warning-title">
      <strong id="cert-warning-title">
        {warning.kind === 'changed'
          ? `The certificate of ${warning.host}:${warning.port} changed`
          : `The certificate of ${warning.host}:${warning.port} is not the one announced`}
      </strong>
      <p>{warning.message}</p>
      <dl>
        <dt>{warning.kind === 'changed' ? 'Trusted until now' : 'Announced'}</dt>
        <dd>
          <code>{warning.previous}</code>
        </dd>
        <dt>Presented now</dt>
        <dd>
          <code>{warning.presented}</code>
        </dd>
      </dl>
      {failure === null ? null : <p role="alert">{failure}</p>}
      <div className="certificate-warning-actions">
        <button type="button" className="button ghost small" onClick={dismiss}>
          Keep refusing
        </button>
        <button type="button" className="button small" onClick={() => void retrust()}>
          The host confirmed it: trust the new certificate (Parley restarts)
        </button>
      </div>
    </div>
  );
}
