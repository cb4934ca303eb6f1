// `ebpf-studio` entry point: a dispatch table of subcommands, each in its own file (one line per
// command here), with usage on no/unknown command and exit status 2 for the tool's own failures.
// Commands load on first use, so one command does not pay for another's modules (ssh2 alone costs ~35 ms).

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  check: { summary: 'check eBPF C files against the verifier rules (static; --verify to load them too)', run: async (args) => (await import('./check-command.js')).runCheckCommand(args) },
  maps: { summary: 'maps dump: print a BPF map\'s entries, decoded through its BTF', run: async (args) => (await import('./maps-command.js')).runMapsCli(args) },
  run: { summary: 'compile, load and attach a probe (or template) on a target, print stats and maps, detach on exit', run: async (args) => (await import('./run-command.js')).runRunCommand(args) },
  targets: { summary: 'targets probe: a target\'s kernel, BTF, libbpf and helpers per program type, as JSON', run: async (args) => (await import('./targets-command.js')).runTargetsCommand(args) },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return `Usage: ebpf-studio <command> [options]\n\nCommands:\n${Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join('\n')}\n\nRun ebpf-studio <command> --help for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`ebpf-studio: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line saying what failed, not a stack trace (EBPF_STUDIO_DEBUG=1 shows it).
    const shown = error instanceof Error ? (process.env.EBPF_STUDIO_DEBUG ? (error.stack ?? error.message) : error.message.split('\n')[0]) : String(error);
    process.stderr.write(`ebpf-studio: ${shown}\n`);
    process.exitCode = 2;
  },
);
