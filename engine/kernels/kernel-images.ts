// Finds the kernel images a "kernel:<version|path>" target names: Debian packages unpacked by
// scripts/install-kernels.sh under ~/.cache/ebpf-studio/kernels/<release>/, or a bzImage/vmlinuz the user points to.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export interface KernelImage {
  /** The kernel release, e.g. 6.1.0-57-cloud-amd64 (for a bare image file: its file name). */
  release: string;
  /** The bootable image (bzImage / vmlinuz). */
  image: string;
  /** /lib/modules/<release> of the unpacked package, when the image comes with modules. */
  modulesDir?: string;
}

/** Where unpacked kernels live: $EBPF_STUDIO_KERNELS, else ~/.cache/ebpf-studio/kernels. */
export function kernelCacheRoot(): string {
  return process.env.EBPF_STUDIO_KERNELS || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'kernels');
}

/** Where the initramfs built for kernel targets are cached (each holds Node, ~100 MB; older builds are removed). */
export function initramfsCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'initramfs');
}

/** Every unpacked kernel in the cache, newest release first. */
export function cachedKernels(root = kernelCacheRoot()): KernelImage[] {
  if (!existsSync(root)) return [];
  const found: KernelImage[] = [];
  for (const release of readdirSync(root)) {
    const image = join(root, release, 'boot', `vmlinuz-${release}`);
    if (!existsSync(image)) continue;
    const modulesDir = join(root, release, 'lib', 'modules', release);
    found.push({ release, image, ...(existsSync(modulesDir) ? { modulesDir } : {}) });
  }
  return found.sort((a, b) => b.release.localeCompare(a.release, 'en', { numeric: true }));
}

/** True when `release` belongs to the series `version` (6.1 → 6.1.0-57-cloud-amd64, not 6.12.x). */
function inSeries(release: string, version: string): boolean {
  return release === version || release.startsWith(`${version}.`) || release.startsWith(`${version}-`) || release.startsWith(`${version}+`);
}

/**
 * The image for what follows "kernel:" — a version (6.1, 6.12.118, a full release) matched against the cache,
 * or a path to an image file (with /lib/modules/<release> beside its boot/ folder when it came from a package).
 */
export function resolveKernelImage(spec: string, root = kernelCacheRoot()): KernelImage {
  if (spec.includes('/')) {
    const image = resolve(spec);
    if (!existsSync(image) || !statSync(image).isFile()) throw new Error(`kernel:${spec}: there is no kernel image file ${image}.`);
    const release = basename(image).replace(/^(vmlinuz|bzImage)-?/, '') || basename(image);
    const modulesDir = join(dirname(image), '..', 'lib', 'modules', release);
    return { release, image, ...(release && existsSync(modulesDir) ? { modulesDir } : {}) };
  }
  if (!/^\d+\.\d+[\w.+~-]*$/.test(spec)) throw new Error(`kernel:${spec} is neither a kernel version (e.g. kernel:6.1) nor a path to an image (kernel:./bzImage).`);
  const kernels = cachedKernels(root);
  const match = kernels.find((k) => inSeries(k.release, spec));
  if (!match) {
    const have = kernels.map((k) => k.release).join(', ') || 'none';
    throw new Error(
      `No kernel ${spec} in ${root} (have: ${have}). Fetch Debian's with \`bash scripts/install-kernels.sh ${spec}\`, or give an image path: --target kernel:/path/to/bzImage.`,
    );
  }
  return match;
}
