// The `btf` method: the target kernel's BTF (/sys/kernel/btf/vmlinux) as base64 with its sha256, so the client
// can generate vmlinux.h for this exact kernel (cached by the hash) without running bpftool on the target.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AgentError } from './agent-error';
import { VMLINUX_BTF_PATH } from './hello';

export function fetchVmlinuxBtf(): { btf: string; sha256: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(VMLINUX_BTF_PATH);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentError(
      code === 'ENOENT'
        ? `This kernel has no BTF (${VMLINUX_BTF_PATH} is missing): vmlinux.h cannot be generated for it. Rebuild the kernel with CONFIG_DEBUG_INFO_BTF=y, or include <linux/bpf.h> and the kernel headers instead of vmlinux.h.`
        : `Cannot read ${VMLINUX_BTF_PATH}: ${(err as Error).message}`,
      'ENOBTF',
    );
  }
  return { btf: bytes.toString('base64'), sha256: createHash('sha256').update(bytes).digest('hex') };
}
