// Installs the agent as root into a root-owned folder (copied from an untrusted staging folder, each copy checked against the
// sha256 this side computed) with a root-owned launcher that re-checks every file's sha256 before each start. Emits POSIX sh.
import { createHash } from 'node:crypto';
import { shellQuote } from './shell-quote';

/** Where agents are installed on a host (and locally when not running from a root-owned path). */
export const DEFAULT_INSTALL_ROOT = '/var/lib/ebpf-studio';

/** The line the launcher prints right before it execs the agent; what follows on stdout is the agent's protocol. */
export const AGENT_STARTING = 'ebpf-studio-agent-starting';

/** Exit code of the launcher when a file does not match its recorded sha256. */
export const LAUNCHER_REFUSED = 97;

export interface InstallFile {
  /** Path inside the agent's version folder. */
  remote: string;
  bytes: Buffer;
}

export interface InstallPlan {
  installRoot: string;
  /** The agent's version folder name. */
  dir: string;
  files: InstallFile[];
  /** Untrusted folder holding the files (and the runtime tarball) under the same relative names. */
  staging: string;
  /** Run the agent with this Node (its real path is hashed too)... */
  nodePath?: string;
  /** ...or with the bundled runtime: its tarball's name in staging (absent when already installed) and sha256. */
  runtime?: { dir: string; tarball?: string; sha256: string };
  /** Remove the staging folder afterwards (uploads: yes; a local dist/ folder: no). */
  removeStaging: boolean;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function launcherPath(installRoot: string, dir: string): string {
  return `${installRoot}/agent/${dir}/run-agent`;
}

export function runtimeNodePath(installRoot: string, runtimeDir: string): string {
  return `${installRoot}/runtime/${runtimeDir}/bin/node`;
}

/** sh functions shared by the install script: fail with a message, and the root-owned-and-not-writable check. */
const HELPERS = [
  'fail() { echo "ebpf-studio install: $*" >&2; exit 1; }',
  // Owner root, no group/other write bit unless the sticky bit protects entries (e.g. /tmp).
  'safe() { set -- "$1" $(stat -L -c "%u %a" "$1") || return 1; [ "$2" = 0 ] || return 1; case "$3" in ????) case "$3" in [1357]*) return 0;; esac;; esac; case "$3" in *[2367]?|*[2367]) return 1;; esac; return 0; }',
  'chain() { p=$1; while :; do safe "$p" || fail "$p must be owned by root and writable by root only"; [ "$p" = / ] && break; p=$(dirname "$p"); done; }',
  'copycheck() { cp "$S/$1" "$T/$1" && [ "$(wc -c < "$T/$1" | tr -d " ")" = "$2" ] || fail "$1: size differs from the $2 bytes sent"; [ "$(sha256sum < "$T/$1" | cut -d" " -f1)" = "$3" ] || fail "$1: sha256 differs from the one sent"; }',
];

/**
 * The script to run as root. It copies each file out of staging into a fresh root-owned folder and checks size and sha256
 * of the copy (so a change to staging after the check cannot matter), unpacks the runtime's node binary when bundled,
 * writes SHA256SUMS (agent files + the node binary) and the launcher, then moves the folder into place.
 */
export function installScript(plan: InstallPlan): string {
  const root = plan.installRoot;
  const final = `${root}/agent/${plan.dir}`;
  const folders = [...new Set(plan.files.map((f) => f.remote.split('/').slice(0, -1).join('/')).filter(Boolean))];
  const lines = [
    'set -eu',
    'umask 022',
    ...HELPERS,
    '[ "$(id -u)" = 0 ] || fail "needs root"',
    `R=${shellQuote(root)}; S=${shellQuote(plan.staging)}`,
    'mkdir -p "$R/agent" "$R/runtime"',
    'chain "$R/agent"; chain "$R/runtime"',
    'T=$(mktemp -d "$R/agent/.install-XXXXXX"); trap \'rm -rf "$T"\' EXIT; chmod 755 "$T"',
    ...folders.map((d) => `mkdir -p "$T"/${shellQuote(d)}`),
    ...plan.files.map((f) => `copycheck ${shellQuote(f.remote)} ${f.bytes.length} ${sha256Hex(f.bytes)}`),
  ];
  let node: string;
  if (plan.runtime) {
    const rt = `${root}/runtime/${plan.runtime.dir}`;
    node = runtimeNodePath(root, plan.runtime.dir);
    if (plan.runtime.tarball) {
      lines.push(
        `if [ ! -x ${shellQuote(node)} ]; then`,
        `  U=$(mktemp -d "$R/runtime/.install-XXXXXX"); trap 'rm -rf "$T" "$U"' EXIT`,
        `  cp "$S"/${shellQuote(plan.runtime.tarball)} "$U/node.tgz"`,
        `  [ "$(sha256sum < "$U/node.tgz" | cut -d" " -f1)" = ${plan.runtime.sha256} ] || fail "the Node runtime tarball's sha256 differs from the one sent"`,
        '  tar -xzf "$U/node.tgz" -C "$U" package/bin/node || fail "cannot unpack the Node runtime (tar with gzip is needed)"',
        `  mkdir -p "$U/rt/bin" && mv "$U/package/bin/node" "$U/rt/bin/node" && chmod 755 "$U/rt" "$U/rt/bin" "$U/rt/bin/node"`,
        `  rm -rf ${shellQuote(rt)} && mv "$U/rt" ${shellQuote(rt)}`,
        'fi',
      );
    }
    lines.push(`[ -x ${shellQuote(node)} ] || fail "the Node runtime is not installed at ${node}"`);
  } else {
    node = plan.nodePath ?? 'node';
    lines.push(`N=$(readlink -f ${shellQuote(node)}); safe "$N" && safe "$(dirname "$N")" || fail "$N must be owned by root and writable by root only to run as root"`);
  }
  const nodeReal = plan.runtime ? shellQuote(node) : '"$N"';
  lines.push(
    `( cd "$T" && sha256sum ${plan.files.map((f) => shellQuote(f.remote)).join(' ')} | sed "s|  |  ${final}/|" ) > "$T/SHA256SUMS"`,
    `sha256sum ${nodeReal} >> "$T/SHA256SUMS"`,
    `cat > "$T/run-agent" <<EOF\n${launcher(final, plan.runtime ? node : '$N')}\nEOF`,
    'chmod 755 "$T/run-agent"; chmod 644 "$T/SHA256SUMS"; chown -R 0:0 "$T"',
    `rm -rf ${shellQuote(final)}; mv "$T" ${shellQuote(final)}; trap - EXIT`,
  );
  if (plan.removeStaging) lines.push('rm -rf "$S"');
  lines.push(`echo "installed=${final}"`);
  return lines.join('\n');
}

/** The launcher (root-owned, run as root): refuses to start unless every file matches SHA256SUMS, then execs the agent. */
function launcher(final: string, node: string): string {
  return [
    '#!/bin/sh',
    '# eBPF Studio agent launcher: checks the sha256 of the agent, its libraries and Node before every start.',
    // openssl hashes with the CPU's SHA extensions (4x faster than coreutils on the ~100 MB node binary); sha256sum otherwise.
    'if command -v openssl >/dev/null 2>&1; then H="openssl dgst -sha256 -r"; else H=sha256sum; fi',
    `while read -r h f; do a=$($H "$f" 2>/dev/null); [ "\${a%% *}" = "$h" ] || { echo "ebpf-studio: ${final} does not match its SHA256SUMS ($f); refusing to start it" >&2; exit ${LAUNCHER_REFUSED}; }; done < ${final}/SHA256SUMS`,
    `echo ${AGENT_STARTING}`,
    `exec ${node} ${final}/agent.js`,
  ]
    .join('\n')
    .replace(/\$(?!N\b|\{final\})/g, '\\$');
}
