import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../../store/errors.js';
import { classifyFileError } from '../../store/folder.js';

const systemError = (code: string) => Object.assign(new Error(`${code}: failed, open '/mirror/x.grib2'`), { code });

describe('folder store errors, sorted by what the caller should do', () => {
  it('takes a file system error that may pass (too many open files, an I/O error, a stale network mount, a busy or timed-out file) as worth another try, so the analysis is retried rather than dead-lettered', () => {
    for (const code of ['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'EIO', 'ESTALE', 'ETIMEDOUT']) {
      const kind = classifyFileError(systemError(code));
      assert.ok(new StoreError(kind, 'file:///mirror/x.grib2', code).retriable, `${code} is ${kind}`);
    }
  });

  it('takes a refusal as denied and what another try cannot fix as invalid', () => {
    assert.equal(classifyFileError(systemError('EACCES')), 'denied');
    assert.equal(classifyFileError(systemError('EPERM')), 'denied');
    for (const code of ['EISDIR', 'ENAMETOOLONG', 'ELOOP']) assert.equal(classifyFileError(systemError(code)), 'invalid');
  });
});
