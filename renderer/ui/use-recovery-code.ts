/**
 * What the sign-in-code dialogs (SignInCodesDialog, SignOutDialog) share: the user's recovery
 * code as the relay describes it, and one request at a time with its failure shown.
 */
import { useEffect, useState } from 'react';
import type { ApiResult } from '../net/api-client.js';
import { useClient } from './parley-context.js';

export type RecoveryCodeState =
  | { state: 'loading' }
  /** `createdAt` null: the user has no recovery code yet. */
  | { state: 'known'; createdAt: string | null }
  | { state: 'unknown' }
  /** The company's identity provider issues sign-ins: there are no codes. */
  | { state: 'company' };

/**
 * The recovery code's state, asked of the relay once when the dialog opens; the setter records
 * one made since.
 */
export function useRecoveryCodeState(): [RecoveryCodeState, (state: RecoveryCodeState) => void] {
  const client = useClient();
  const [state, setState] = useState<RecoveryCodeState>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    void client.recoveryCodeStatus().then((answer) => {
      if (!live) return;
      if (answer.ok) setState({ state: 'known', createdAt: answer.data.created_at });
      else setState({ state: answer.code === 'sessions_disabled' ? 'company' : 'unknown' });
    });
    return () => {
      live = false;
    };
  }, [client]);
  return [state, setState];
}

export interface DialogRequest {
  /** True while a request runs (its buttons are disabled). */
  busy: boolean;
  /** The last request's failure, as shown to the user; null after a success or a new start. */
  error: string | null;
  /** Runs `request`; its data, or null after setting `error` to "`failure`: <message>". */
  run: <T>(request: () => Promise<ApiResult<T>>, failure: string) => Promise<T | null>;
}

/** One request at a time from a dialog, with its failure kept for a `role="alert"` line. */
export function useDialogRequest(): DialogRequest {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run<T>(request: () => Promise<ApiResult<T>>, failure: string): Promise<T | null> {
    setBusy(true);
    setError(null);
    const answer = await request();
    setBusy(false);
    if (answer.ok) return answer.data;
    setError(`${failure}: ${answer.message}`);
    return null;
  }
  return { busy, error, run };
}
