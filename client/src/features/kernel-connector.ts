// Connects kernel:<version|image> targets for the Studio hub: boots the kernel in a throw-away QEMU VM with the agent
// inside (engine/kernels), logs its console to the target's output; the hub keeps the VM warm until disconnect.
import { bootKernelVm } from '../../../engine/kernels/kernel-vm-transport';
import { KERNEL_TARGET_PREFIX } from '../../../engine/targets/target-address';
import type { ResolvedTarget, Studio } from '../studio';

async function connectKernel(target: ResolvedTarget, studio: Studio) {
  const log = (line: string) => target.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  log(`booting ${target.name} in QEMU (the first boot without KVM takes tens of seconds)`);
  const vm = await bootKernelVm(target.name.slice(KERNEL_TARGET_PREFIX.length), {
    agentPath: studio.context.asAbsolutePath('dist/agent.js'),
    onConsole: (line) => target.output.appendLine(`console: ${line}`),
  });
  log(`${vm.kernel.release} booted in ${vm.bootMs} ms (${vm.accelerator.toUpperCase()}, QEMU pid ${vm.pid}); it stops when the target is disconnected or the editor closes`);
  return vm.client;
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(studio.registerConnector('kernel', (target) => connectKernel(target, studio)));
}
