// `ebpf-studio targets probe [--target T]`: what a target is (kernel, arch, BTF, libbpf, lockdown, kprobes; for SSH hosts also
// glibc, Node, sudo and what is missing) and which helpers each program type may call, as JSON, plus for this machine the
// doctor's checks with their fixes; `targets list`: usable aliases.
import type { Writable } from 'node:stream';
import { hostNodeSuitable } from '../../engine/targets/host-prerequisites';
import { checkThisMachine, formatChecks, type DoctorCheck } from '../../engine/targets/local-doctor';
import { configuredTargetNames } from '../../engine/targets/target-address';
import { connectCliTarget } from './target-connect';
import { parseCommandLine, TARGET_OPTIONS, TARGET_USAGE, targetConnectOptions, UsageError } from './command-line';

export const TARGETS_USAGE = `Usage: ebpf-studio targets probe [--target T] [--identity KEY] [--known-hosts FILE]
       ebpf-studio targets list

  probe   print the target's kernel release, arch, BTF, libbpf version, lockdown, kprobes and the helpers
          each program type may call (feature probe), as JSON; for the local target, first check this machine
          (kernel, BTF, bpffs, tracefs, kprobes, lockdown, unprivileged BPF, privileges, clang, libbpf) and print
          each missing thing with the command that fixes it (on stderr; "checks" in the JSON). Exit 1 when
          something is missing
  list    print the ~/.ssh/config host aliases, one per line

${TARGET_USAGE}`;

export async function runTargetsCommand(args: string[], out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out.write(`${TARGETS_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'list') {
    for (const name of configuredTargetNames([])) out.write(`${name}\n`);
    return 0;
  }
  if (sub !== 'probe') {
    err.write(`ebpf-studio targets: unknown subcommand "${sub}"\n\n${TARGETS_USAGE}\n`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseCommandLine(rest, TARGET_OPTIONS));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    (e.message ? err : out).write(`${e.message ? `ebpf-studio targets probe: ${e.message}\n\n` : ''}${TARGETS_USAGE}\n`);
    return e.message ? 2 : 0;
  }
  const log = (line: string) => err.write(`${line}\n`);
  let checks: DoctorCheck[] | undefined;
  if (values.target === 'local') {
    checks = await checkThisMachine(process.env.EBPF_STUDIO_INSTALL_ROOT ? { installRoot: process.env.EBPF_STUDIO_INSTALL_ROOT } : {});
    err.write(formatChecks(checks));
  }
  const missing = checks?.some((c) => c.status === 'missing') ?? false;
  try {
    let host: Record<string, unknown> | undefined;
    const client = await connectCliTarget(values.target, {
      ...targetConnectOptions(values),
      log,
      onSshHost: ({ facts, prerequisites, privilege }) => {
        host = {
          user: facts.user,
          privilege,
          os: `${facts.osId} ${facts.osVersion}`.trim(),
          glibc: facts.glibcVersion ?? null,
          node: facts.nodePath ? { path: facts.nodePath, version: facts.nodeVersion ?? null, runsAgent: hostNodeSuitable(facts) } : null,
          libbpf: facts.libbpfPath ?? null,
          missing: prerequisites.missing,
          warnings: prerequisites.warnings,
        };
      },
    });
    try {
      const hello = await client.request('hello', {});
      const features = await client.request('featureProbe', {}, { timeoutMs: 120_000 });
      out.write(
        `${JSON.stringify({
          target: client.targetName,
          kernelRelease: hello.kernelRelease,
          arch: hello.arch,
          btf: hello.btfPresent,
          libbpfVersion: hello.libbpfVersion,
          agentVersion: hello.agentVersion,
          ...(hello.lockdown ? { lockdown: hello.lockdown } : {}),
          ...(hello.kprobes !== undefined ? { kprobes: hello.kprobes } : {}),
          ...(host ? { host } : {}),
          programTypes: features.programTypes,
          probeMs: features.elapsedMs,
          ...(checks ? { checks } : {}),
        })}\n`,
      );
      return missing ? 1 : 0;
    } finally {
      await client.close();
    }
  } catch (e) {
    err.write(`ebpf-studio targets probe: ${(e as Error).message}\n`);
    if (checks) out.write(`${JSON.stringify({ target: 'local', error: (e as Error).message, checks })}\n`);
    return 2;
  }
}
