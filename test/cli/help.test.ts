import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const hrrrEmbed = (args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { encoding: 'utf8' });

describe('the command line', () => {
  const overview = hrrrEmbed(['--help']);
  const commands = [...new Set([...overview.stdout.matchAll(/^ {2}([\w-]+) /gm)].map((match) => match[1]!))];
  /** A command's synopsis lines, as its --help begins: `usage: hrrr-embed model list ...`, then `       hrrr-embed model promote ...`. */
  const synopsis = (help: string) => help.split('\n\n')[0]!.split('\n').map((line) => line.replace(/^(usage: | +)hrrr-embed /, ''));

  it('lists every command, and exits 2 with that list when given none or an unknown one', () => {
    assert.equal(overview.status, 0);
    assert.deepEqual([...commands].sort(), ['backfill', 'decode', 'demo', 'embed', 'fetch', 'model', 'reconstruct', 'request-retrain', 'retrain', 'run', 'schemas', 'shards', 'similar', 'tail', 'trainer']);
    assert.equal(hrrrEmbed([]).status, 2);
    const unknown = hrrrEmbed(['embbed']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "embbed"/);
  });

  it('every command prints its usage and options with --help, and exits 0', () => {
    for (const command of commands) {
      const help = hrrrEmbed([command, '--help']);
      assert.equal(help.status, 0, command);
      assert.match(help.stdout, new RegExp(`^usage: hrrr-embed ${command}\\b`), command);
      assert.ok(help.stdout.split('\n').length > 3, `${command}: more than a line of help`);
    }
  });

  it('lists every subcommand of a command that has several (model list, shards compact), as their --help does', () => {
    const listed = overview.stdout.split('\n').map((line) => line.trim());
    for (const command of commands) {
      for (const line of synopsis(hrrrEmbed([command, '--help']).stdout)) assert.ok(listed.includes(line), `hrrr-embed --help lacks "${line}"`);
    }
  });
});
