/**
 * A small command-line parser: positionals, `--name value`, `--name=value`, boolean `--flag`,
 * repeatable options, `--` to end options, `-h` / `--help`; and the help text of a command.
 * Errors are `UsageError`s, which the entry point prints with a pointer to `--help`.
 */

export interface OptionSpec {
  name: string;
  /** 'string' takes a value; 'boolean' is a flag. */
  type: 'string' | 'boolean';
  help: string;
  /** Shown in the help after the name, e.g. '<file>'. */
  value?: string;
  required?: boolean;
  /** May be given more than once; `list()` returns every value. */
  repeat?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  positionals: { name: string; help: string }[];
  options: OptionSpec[];
  /** Extra paragraphs for the help (examples, notes). */
  details?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class ParsedArgs {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, string[]>,
    private readonly flags: Set<string>,
    readonly help: boolean,
  ) {}

  /** The value of a string option (the last one if repeated). */
  get(name: string): string | undefined {
    const v = this.values.get(name);
    return v?.[v.length - 1];
  }

  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  flag(name: string): boolean {
    return this.flags.has(name);
  }
}

export function parseArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const opt = byName.get(name);
    if (!opt) throw new UsageError(`unknown option --${name}`);
    if (opt.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} is a flag and takes no value`);
      flags.add(name);
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`--${name} needs a value${opt.value ? ` ${opt.value}` : ''}`);
    const list = values.get(name) ?? [];
    if (list.length > 0 && !opt.repeat) throw new UsageError(`--${name} was given more than once`);
    values.set(name, [...list, value]);
  }
  if (!help) {
    const missing = spec.options.filter((o) => o.required && !values.has(o.name)).map((o) => `--${o.name}`);
    if (missing.length > 0) throw new UsageError(`missing required option(s): ${missing.join(', ')}`);
    if (positionals.length !== spec.positionals.length) {
      const want = spec.positionals.map((p) => `<${p.name}>`).join(' ');
      throw new UsageError(`expected ${spec.positionals.length} argument(s) ${want}, got ${positionals.length}`);
    }
  }
  return new ParsedArgs(positionals, values, flags, help);
}

/** The `--help` text of a command. */
export function formatHelp(program: string, spec: CommandSpec): string {
  const usage = [program, spec.name, ...spec.positionals.map((p) => `<${p.name}>`),
    ...spec.options.map((o) => {
      const part = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
      return o.required ? part : `[${part}]`;
    })].join(' ');
  const rows: [string, string][] = [
    ...spec.positionals.map((p): [string, string] => [`<${p.name}>`, p.help]),
    ...spec.options.map((o): [string, string] => [`--${o.name}${o.value ? ` ${o.value}` : ''}`,
      o.help + (o.repeat ? ' (repeatable)' : '')]),
    ['-h, --help', 'show this help'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`${spec.summary}`, '', `Usage: ${usage}`, '', ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}

/** The integer value of option `--name` (≥ `min`), or `fallback` when it is not given. */
export function intOption(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${raw}`);
  return v;
}

/**
 * Comma-separated names, trimmed: none empty (`a,,b` is an error, not a silent `a,b`), no duplicates.
 *
 * @example
 * parseClassList('circle, ring', '--classes');   // ['circle', 'ring']
 */
export function parseClassList(value: string | undefined, option: string): string[] {
  const names = (value ?? '').split(',').map((s) => s.trim());
  if (names.every((s) => s.length === 0)) throw new UsageError(`${option} needs at least one class name (comma-separated)`);
  const empty = names.findIndex((s) => s.length === 0);
  if (empty >= 0) throw new UsageError(`${option} has an empty class name (item ${empty + 1} of ${JSON.stringify(value)}): remove the extra comma`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`${option} names "${dup}" twice`);
  return names;
}
