import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

export interface CommandResult {
  status: number | null;
  /** The stdout lines, parsed as JSON. */
  lines: unknown[];
  stderr: string;
}

/** Runs `hrrr-embed ARGS` as a process; `onLine` sees each stdout line as it comes, `onStderr` each chunk of stderr. */
export function runCommandProcess(
  args: string[],
  { onLine = () => {}, onStderr = () => {}, env = {} }: { onLine?: (line: string, child: ChildProcess) => void; onStderr?: (text: string, child: ChildProcess) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env } });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk) => {
    pending += chunk;
    for (let end; (end = pending.indexOf('\n')) >= 0; pending = pending.slice(end + 1)) {
      const line = pending.slice(0, end);
      lines.push(line);
      onLine(line, child);
    }
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    onStderr(stderr, child);
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, lines: lines.map((line) => JSON.parse(line)), stderr })));
}
