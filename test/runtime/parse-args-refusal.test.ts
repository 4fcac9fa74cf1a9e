import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import { parseArgsRefusal } from '../../runtime/parse-args-refusal.js';

const refusal = (args: string[]) => {
  try {
    parseArgs({ args, options: { steps: { type: 'string' }, fresh: { type: 'boolean' } } });
  } catch (error) {
    return parseArgsRefusal(error as Error, args);
  }
  assert.fail(`${args.join(' ')} was taken`);
};

describe('parseArgsRefusal', () => {
  it('--steps -5: says to give the value as --steps=-5', () => {
    assert.equal(refusal(['--steps', '-5']), '--steps -5: a value that begins with a dash is taken for an option; give it as --steps=-5');
  });

  it('--steps --fresh: says --steps has no value, and never offers --steps=--fresh', () => {
    const message = refusal(['--steps', '--fresh']);
    assert.equal(message, '--steps --fresh: --steps has no value (--fresh is taken for an option); a value that begins with a dash is given as --steps=VALUE');
  });
});
