import { describe, expect, it } from 'vitest';
import type { UiMessage } from '../state/types.js';
import { canChange, changeTarget, editProblem, editedLabel, isDeleted } from './message-changes.js';
import { formatDateTime } from './time-format.js';

const base: Pick<
  UiMessage,
  'sender_id' | 'deleted_at' | 'status' | 'message_id' | 'mobile_ref_id'
> = {
  sender_id: 'me',
  deleted_at: null,
  status: 'sent',
  message_id: 'm1',
  mobile_ref_id: 'ref1',
};

describe('message changes', () => {
  it('offers Edit and Delete on own sent or pending messages only', () => {
    expect(canChange(base, 'me')).toBe(true);
    expect(canChange({ ...base, status: 'pending' }, 'me')).toBe(true);
    expect(canChange({ ...base, status: 'failed' }, 'me')).toBe(false);
    expect(canChange(base, 'someone else')).toBe(false);
    expect(canChange(base, null)).toBe(false);
    expect(canChange({ ...base, deleted_at: '2026-12-07T10:00:00.000Z' }, 'me')).toBe(false);
    expect(isDeleted({ deleted_at: '2026-12-07T10:00:00.000Z' })).toBe(true);
    expect(isDeleted(base)).toBe(false);
  });

  it('targets the stored message once sent, the queued send before', () => {
    expect(changeTarget(base)).toEqual({ messageId: 'm1' });
    expect(changeTarget({ ...base, status: 'pending' })).toEqual({ mobileRefId: 'ref1' });
  });

  it('labels an edit with its time', () => {
    const at = '2026-12-07T10:05:00.000Z';
    expect(editedLabel(at, 'en-GB')).toBe(`Edited ${formatDateTime(Date.parse(at), 'en-GB')}`);
    expect(editedLabel(null)).toBeNull();
    expect(editedLabel('not a date')).toBe('Edited');
  });

  it('says why an edit was not saved, and nothing when it was', () => {
    expect(editProblem({ ok: true, refId: 'r' })).toBeNull();
    expect(editProblem({ ok: false, code: 'empty' })).toMatch(/delete it instead/);
    expect(editProblem({ ok: false, code: 'too_long' })).toMatch(/too long/);
    expect(editProblem({ ok: false, code: 'outbox_full' })).toMatch(/waiting for the connection/);
    expect(editProblem({ ok: false, code: 'not_found' })).toMatch(/no longer be edited/);
    expect(editProblem({ ok: false, code: 'no_chat' })).toMatch(/no longer available/);
  });
});
