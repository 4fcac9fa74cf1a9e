import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

export const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** README's fenced code blocks, and the text outside them, where its inline `code` spans are. */
function blocksAndProse(): { blocks: string[]; prose: string } {
  const blocks: string[] = [];
  const prose = readme.replace(/^```[^\n]*\n([\s\S]*?)^```$/gm, (_block, body: string) => {
    blocks.push(body);
    return '';
  });
  return { blocks, prose };
}

/** Every inline `code` span of README, its line breaks made spaces. */
export function codeSpans(): string[] {
  return [...blocksAndProse().prose.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\s+/g, ' ').trim());
}

/** Every line of README's code blocks, with a line that starts with spaces joined to the one before (a synopsis that goes on). */
function codeBlockLines(): string[] {
  // An indented line goes on the one before, as does a line after one ending in a shell's `\`.
  return blocksAndProse().blocks.flatMap((body) => body.replace(/[ \t]*\\?\n[ \t]+(?=\S)/g, ' ').split('\n'));
}

/** The command lines README shows that start with `program` (e.g. "hrrr-embed" or "npm run bench --"), in code blocks or as a whole inline span, from the word after it. */
export function commandLines(program: string): string[] {
  const prefix = `${program} `;
  return [...codeBlockLines(), ...codeSpans()].map((line) => line.trim()).filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length).trim());
}

/** The arguments a synopsis or an example line stands for: brackets opened, `|` between alternatives dropped, the line cut at a pipe to another program or a `#` comment; `[...x]` and `...x...` (see elsewhere) left out. */
export function synopsisTokens(line: string): string[] {
  const text = line
    .replace(/\[\.\.\.[^\]]*\]/g, '')
    .replace(/\.\.\.[^.]*\.\.\./g, '')
    .replace(/\]\.\.\./g, ']');
  const tokens: string[] = [];
  let depth = 0;
  for (const match of text.matchAll(/"[^"]*"|\S+/g)) {
    let token = match[0];
    if (depth === 0 && (token === '|' || token === '#')) break;
    while (token.startsWith('[')) {
      depth += 1;
      token = token.slice(1);
    }
    while (token.endsWith(']')) {
      depth -= 1;
      token = token.slice(0, -1);
    }
    if (token === '' || token === '|') continue;
    tokens.push(token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : token);
  }
  return tokens;
}
