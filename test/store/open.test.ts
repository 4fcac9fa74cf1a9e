import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../store/open.js';

describe('store locations', () => {
  it('refuses a file URL that names a host (file://data/hrrr is the folder /hrrr on host "data"), rather than read another folder than meant', () => {
    for (const location of ['file://data/hrrr', 'file://./mirror']) {
      assert.throws(() => openStore(location), (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(location)) && /file:\/\/\/PATH/.test(error.message));
    }
  });

  it('takes file:///PATH and file://localhost/PATH as the folder PATH', () => {
    assert.equal(openStore('file:///data/hrrr').url, 'file:///data/hrrr');
    assert.equal(openStore('file://localhost/data/hrrr').url, 'file:///data/hrrr');
  });
});
