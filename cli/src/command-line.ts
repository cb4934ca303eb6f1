// The CLI's one way to read arguments: node:util parseArgs (strict) with the shared --target/--identity/--known-hosts
// spec, and the one UsageError every command answers with its usage and exit status 2. Talks to nothing.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliTargetOptions } from './target-connect';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpec;

/** Bad arguments: the command prints the message and its usage, and exits 2. An empty message asks for the usage alone. */
export class UsageError extends Error {}

/** How every command that reaches a target names it. */
export const TARGET_OPTIONS = {
  target: { type: 'string', default: 'local' },
  identity: { type: 'string' },
  'known-hosts': { type: 'string' },
} as const satisfies OptionSpec;

export const TARGET_USAGE = `  --target T            local (default), kernel:6.1 (a kernel booted in a VM; or kernel:/path/to/bzImage),
                        ssh://user@host[:port], user@host or an ~/.ssh/config alias
  --identity KEY        SSH key file for --target (tried first)
  --known-hosts FILE    known_hosts to check the host key against (default ~/.ssh/known_hosts)`;

/** parseArgs with positionals allowed; unknown options, missing or empty values and --help become UsageErrors. */
export function parseCommandLine<const O extends OptionSpec>(args: string[], options: O) {
  let parsed;
  try {
    parsed = parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: true }>({ args, options: { ...options, ...HELP }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '' || (Array.isArray(value) && value.includes(''))) throw new UsageError(`--${name} needs a value.`);
  }
  if ((parsed.values as { help?: boolean }).help) throw new UsageError('');
  return parsed;
}

/** The SSH part of the target options, for connectCliTarget. */
export function targetConnectOptions(values: { identity?: string; 'known-hosts'?: string }): Omit<CliTargetOptions, 'log'> {
  return { ...(values.identity ? { identity: values.identity } : {}), ...(values['known-hosts'] ? { knownHosts: values['known-hosts'] } : {}) };
}
