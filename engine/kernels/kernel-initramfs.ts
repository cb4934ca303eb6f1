// Builds the initramfs a kernel target boots: busybox, an init that loads the virtio modules and runs the agent
// on the virtio serial port, Node with its libraries, libbpf and the agent package. Cached by what went into it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { agentPackage } from '../targets/agent-upload';
import { hostFile, writeCpioArchive, type CpioEntry } from './cpio-archive';
import type { KernelImage } from './kernel-images';

/** The name of the virtio serial port the agent talks on (QEMU's virtserialport name=). */
export const AGENT_PORT_NAME = 'ebpf-studio-agent';
const AGENT_DIR = '/opt/ebpf-studio/agent';
/** Modules the guest needs for the agent's port (built in on some kernels, modules on Debian's 6.1). */
const NEEDED_MODULES = ['virtio_pci', 'virtio_console'];
const BUSYBOX = '/bin/busybox';

export interface InitramfsInputs {
  kernel: KernelImage;
  /** dist/agent.js. */
  agentBundle: string;
  /** The Node binary the agent runs with inside the VM. */
  nodePath: string;
}

/** Shared libraries a binary loads, with their paths as the dynamic loader sees them (ldd). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}

/** libbpf.so.1 as the loader cache knows it (koffi dlopens it by that name). */
function findLibbpf(): string {
  const listed = /libbpf\.so\.1 \(.*?\) => (\S+)/.exec(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }))?.[1];
  if (!listed) throw new Error('libbpf.so.1 is not installed here (the kernel target runs the agent with this machine\'s libbpf): apt-get install libbpf1.');
  return listed;
}

function findBusybox(): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: kernel targets boot with busybox as their init (apt-get install busybox-static).`);
  const dynamic = spawnSync('ldd', [BUSYBOX], { encoding: 'utf8' }).stdout.includes('=>');
  if (dynamic) throw new Error(`${BUSYBOX} is linked dynamically; kernel targets need a static one (apt-get install busybox-static).`);
  return BUSYBOX;
}

interface ModuleFile {
  name: string;
  path: string;
}

/** Modules of the image, by name (dashes as underscores), and the names built into it. */
function moduleIndex(modulesDir: string): { files: Map<string, string>; builtin: Set<string> } {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(entry.name)) files.set(entry.name.replace(/\.ko.*$/, '').replace(/-/g, '_'), path);
    }
  };
  walk(join(modulesDir, 'kernel'));
  const builtinFile = join(modulesDir, 'modules.builtin');
  const builtin = new Set(
    existsSync(builtinFile)
      ? readFileSync(builtinFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => line.replace(/^.*\//, '').replace(/\.ko$/, '').replace(/-/g, '_'))
      : [],
  );
  return { files, builtin };
}

function moduleBytes(path: string): Buffer {
  if (path.endsWith('.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
  if (path.endsWith('.zst')) return execFileSync('zstd', ['-dcq', path], { maxBuffer: 1 << 30 });
  if (path.endsWith('.gz')) return execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 30 });
  return readFileSync(path);
}

/** The modules to insert, dependencies first (from each module's own `depends=`), uncompressed. */
function modulesToLoad(modulesDir: string | undefined): { name: string; data: Buffer }[] {
  if (!modulesDir) return [];
  const { files, builtin } = moduleIndex(modulesDir);
  const ordered: { name: string; data: Buffer }[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const path = files.get(name);
    if (!path) return;
    const data = moduleBytes(path);
    const depends = /\0depends=([^\0]*)\0/.exec(data.toString('latin1'))?.[1] ?? '';
    for (const dep of depends.split(',').filter(Boolean)) visit(dep.replace(/-/g, '_'));
    ordered.push({ name, data });
  };
  NEEDED_MODULES.forEach(visit);
  return ordered;
}

function initScript(modules: ModuleFile[], libraryDirs: string[], nodePath: string): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
${modules.map((m) => `insmod ${m.path} || echo "ebpf-studio: insmod ${m.name} failed"`).join('\n')}
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
port=
for i in $(seq 600); do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = ${AGENT_PORT_NAME} ] && [ -e "/dev/\${p##*/}" ] && port="/dev/\${p##*/}"
  done
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "ebpf-studio: the agent port never appeared: the kernel needs CONFIG_VIRTIO_PCI and CONFIG_VIRTIO_CONSOLE (built in, or as modules beside the image)"
else
  # A virtio port opens once: the agent's stdin and stdout share one descriptor.
  exec 3<>"$port"
  HOME=/tmp LD_LIBRARY_PATH=${libraryDirs.join(':')} ${nodePath} ${AGENT_DIR}/agent.js <&3 >&3
  echo "ebpf-studio: the agent exited ($?)"
fi
reboot -f
`;
}

/** Every parent folder of the given archive paths, parents first. */
function parentDirs(paths: string[]): CpioEntry[] {
  const dirs = new Set<string>();
  for (const path of paths) for (let d = dirname(path); d !== '/' && d !== '.'; d = dirname(d)) dirs.add(d);
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)).map((path) => ({ kind: 'dir', path }));
}

/** A key for everything that goes into the archive: paths, sizes and modification times. */
function inputsKey(paths: string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  for (const path of paths) {
    const st = statSync(path);
    hash.update(`${path}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The initramfs for `inputs` under `cacheDir`, built once per set of inputs. */
export function provideInitramfs(inputs: InitramfsInputs, cacheDir: string): string {
  const pkg = agentPackage(inputs.agentBundle, 'x86_64');
  if (!pkg) throw new Error(`koffi has no prebuilt binary for x86_64 next to ${inputs.agentBundle}; run \`npm run build\`.`);
  const libbpf = findLibbpf();
  const busybox = findBusybox();
  const libraries = [...new Set([...sharedLibraries(inputs.nodePath), ...sharedLibraries(libbpf), libbpf])];
  const script = initScript([], [], inputs.nodePath);
  const key = inputsKey([inputs.kernel.image, inputs.nodePath, busybox, ...libraries, ...pkg.files.map((f) => f.local)], script + inputs.kernel.release);
  const prefix = `initramfs-${inputs.kernel.release}-`;
  const path = join(cacheDir, `${prefix}${key}.cpio`);
  if (existsSync(path)) return path;

  const modules = modulesToLoad(inputs.kernel.modulesDir).map((m, i) => ({ ...m, path: `/modules/${String(i).padStart(2, '0')}-${m.name}.ko` }));
  const libraryDirs = [...new Set(libraries.map(dirname))];
  const files: CpioEntry[] = [
    { kind: 'file', path: '/init', mode: 0o755, data: Buffer.from(initScript(modules, libraryDirs, inputs.nodePath)) },
    hostFile(busybox),
    hostFile(inputs.nodePath),
    ...libraries.map((lib) => hostFile(lib)),
    ...modules.map((m): CpioEntry => ({ kind: 'file', path: m.path, mode: 0o644, data: m.data })),
    ...pkg.files.map((f): CpioEntry => ({ kind: 'file', path: `${AGENT_DIR}/${f.remote}`, mode: 0o644, data: f.bytes })),
  ];
  const mountPoints: CpioEntry[] = ['/proc', '/sys', '/dev', '/tmp', '/bin'].map((p) => ({ kind: 'dir', path: p }));
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  writeCpioArchive(partial, [...mountPoints, ...parentDirs(files.map((f) => f.path)).filter((d) => !mountPoints.some((m) => m.path === d.path)), ...files]);
  renameSync(partial, path);
  // Older archives of this kernel (another agent build): a VM already booted from one has it in memory.
  for (const old of readdirSync(cacheDir)) if (old.startsWith(prefix) && old.endsWith('.cpio') && join(cacheDir, old) !== path) rmSync(join(cacheDir, old), { force: true });
  return path;
}
