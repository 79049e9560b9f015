#!/usr/bin/env -S node --import tsx
/**
 * The `spt-seg` command line: the only place that reads process.argv.
 *
 *   spt-seg <command> [arguments] [options]      spt-seg <command> --help
 *
 * Each command lives in cli/commands/<name>.ts and is listed in COMMANDS below; `main` parses the
 * arguments against the command's spec, runs it, and turns errors into messages and exit codes
 * (0 ok, 1 failure, 2 usage error).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, UsageError } from './args.ts';
import { consoleIO, type CliIO, type Command } from './command.ts';
import { classify } from './commands/classify.ts';
import { convert } from './commands/convert.ts';
import { demo } from './commands/demo.ts';
import { data } from './commands/data.ts';
import { pretrainCommand } from './commands/pretrain.ts';
import { info } from './commands/info.ts';
import { segment } from './commands/segment.ts';
import { trainCommand } from './commands/train.ts';
import { evalCommand } from './commands/eval.ts';
import { worldCommand } from './commands/world.ts';
import { ablateCommand } from './commands/ablate.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';

const PROGRAM = 'spt-seg';
export const COMMANDS: readonly Command[] = [convert, classify, demo, data, pretrainCommand, trainCommand, evalCommand, worldCommand, ablateCommand, segment, info, exportCommand, importCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `${PROGRAM}: CLIP and SPT-SEG (spectral prompt tuning for zero-shot segmentation) in TypeScript.`,
    '',
    `Usage: ${PROGRAM} <command> [arguments] [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    '',
    `Run '${PROGRAM} <command> --help' for a command's arguments and options.`,
  ].join('\n');
}

/** Run one command line (without the node and script paths); returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = consoleIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.err : io.out)(overview());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    io.err(`${PROGRAM}: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.spec.name).join(', ')}.`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command.spec);
    if (args.help) {
      io.out(formatHelp(PROGRAM, command.spec));
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${PROGRAM} ${name}: ${err.message}\nRun '${PROGRAM} ${name} --help' for usage.`);
      return 2;
    }
    io.err(`${PROGRAM} ${name}: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * True when this file is the program node was started with. Compared as real paths: through an npm
 * bin link (npx, `npm i -g`) argv[1] is the link (node_modules/.bin/spt-seg), not this file.
 */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false; // argv[1] names no file (node -e, a REPL): not started as the program
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
