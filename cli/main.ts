#!/usr/bin/env node
import { Grib2Error } from '../grib2/index.js';
import { buildInfo } from '../runtime/build-info.js';
import { SettingError } from '../runtime/settings.js';
import { backfillCommand, backfillUsage } from './backfill.js';
import { decodeCommand, decodeUsage } from './decode.js';
import { demoCommand, demoUsage } from './demo.js';
import { fetchCommand, fetchUsage } from './fetch.js';
import { runCommand, runUsage } from './run.js';
import { schemasCommand, schemasUsage } from './schemas.js';
import { tailCommand, tailUsage } from './tail.js';
import { embedCommand, embedUsage } from './embed.js';
import { modelCommand, modelUsage } from './model.js';
import { reconstructCommand, reconstructUsage } from './reconstruct.js';
import { similarCommand, similarUsage } from './similar.js';
import { shardsCommand, shardsUsage } from './shards.js';
import { retrainCommand, retrainUsage } from './retrain.js';
import { trainerCommand, trainerUsage } from './trainer.js';
import { requestRetrainCommand, requestRetrainUsage } from './request-retrain.js';
import { parseArgsRefusal } from '../runtime/parse-args-refusal.js';
import { printable } from './printable.js';
import { commandLogger } from './sources.js';
import { UsageError } from './usage.js';

const commands: Record<string, { run: (args: string[], out: (line: string) => void) => Promise<void>; usage: string }> = {
  decode: { run: decodeCommand, usage: decodeUsage },
  fetch: { run: fetchCommand, usage: fetchUsage },
  backfill: { run: backfillCommand, usage: backfillUsage },
  demo: { run: demoCommand, usage: demoUsage },
  run: { run: runCommand, usage: runUsage },
  tail: { run: tailCommand, usage: tailUsage },
  embed: { run: embedCommand, usage: embedUsage },
  model: { run: modelCommand, usage: modelUsage },
  similar: { run: similarCommand, usage: similarUsage },
  reconstruct: { run: reconstructCommand, usage: reconstructUsage },
  shards: { run: shardsCommand, usage: shardsUsage },
  retrain: { run: retrainCommand, usage: retrainUsage },
  trainer: { run: trainerCommand, usage: trainerUsage },
  'request-retrain': { run: requestRetrainCommand, usage: requestRetrainUsage },
  schemas: { run: schemasCommand, usage: schemasUsage },
};

/** The lines a command's usage begins with, one per subcommand (`model list ...`, `model promote ...`), without `usage: hrrr-embed`. */
function synopsis(usage: string): string[] {
  return usage.split('\n\n')[0]!.split('\n').map((line) => line.replace(/^(usage: | +)hrrr-embed /, ''));
}

const usage = `usage: hrrr-embed COMMAND [OPTIONS]

commands:
${Object.values(commands).map(({ usage: text }) => synopsis(text).map((line) => `  ${line}`).join('\n')).join('\n')}

hrrr-embed COMMAND --help prints a command's options; hrrr-embed --version (-V) the build's
version and git commit, as one JSON line.
exit codes: 0 done, 1 bad input or failure, 2 wrong command line.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    console.error(usage);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(JSON.stringify(buildInfo()));
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    console.error(`hrrr-embed: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  endOnUnhandledRejection(name);
  logWarnings();
  try {
    // Every line is JSON: DEL and the C1 controls, which JSON.stringify leaves as they are, become escapes meaning the same.
    await command.run(args, (line) => process.stdout.write(`${printable(line)}\n`));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`hrrr-embed ${name}: ${printable(error.message)}\n\n${error.usage}`);
      return 2;
    }
    if (error instanceof SettingError) {
      console.error(`hrrr-embed ${name}: ${printable(error.message)}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`hrrr-embed ${name}: ${printable(parseArgsRefusal(error, args))}\n\n${command.usage}`);
      return 2;
    }
    const cause = error instanceof Error && error.cause instanceof Grib2Error ? error.cause : error;
    console.error(`hrrr-embed ${name}: ${printable(cause instanceof Error ? cause.message : String(cause))}`);
    return 1;
  }
}

/**
 * A promise rejection that nothing handled (a bug) ends the command as a failure does: the error
 * in its JSON log, with its stack, its message on stderr, exit status 1, whichever tfjs backend
 * is loaded (model/backends.ts removes the wasm backend's own handlers, which exit with code 7).
 */
function endOnUnhandledRejection(name: string): void {
  process.on('unhandledRejection', (reason) => {
    const message = `unhandled promise rejection: ${reason instanceof Error ? reason.message : String(reason)}`;
    try {
      commandLogger(false).error({ err: reason }, `${name} failed: ${message}`);
    } catch {
      // LOG_LEVEL is not a level: the line below is all there is.
    }
    console.error(`hrrr-embed ${name}: ${printable(message)}`);
    process.exit(1);
  });
}

/**
 * A process warning (the AWS SDK's that Node 20 will soon be unsupported, a deprecation) goes to
 * the log as one JSON line, as everything else on stderr does, instead of Node's lines of plain
 * text, which a log collector reading JSON lines takes for as many broken records.
 */
function logWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    try {
      commandLogger(false).warn({ warning: warning.name, ...(warning.code !== undefined && { code: warning.code }) }, warning.message);
    } catch {
      // LOG_LEVEL is not a level: the command exits 2 saying so.
    }
  });
}

// A reader that stops early (`| head -1`) closes the pipe: the command ends there, quietly, as
// Unix tools end on SIGPIPE (which Node ignores, turning the next write into an EPIPE error).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});
process.exitCode = await main(process.argv.slice(2));
