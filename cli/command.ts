/**
 * What every `spt-seg` command is: a spec (name, arguments, options, help) and a `run` that gets the
 * parsed arguments and somewhere to print. Commands never touch process.argv or process.exit, so tests
 * call them in-process; they return the exit code.
 */
import type { CommandSpec, ParsedArgs } from './args.ts';

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export const consoleIO: CliIO = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};
