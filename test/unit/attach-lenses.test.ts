// The attach code lenses of a probe: "▶ Attach probe" above every program attaches the whole file (no program list),
// "Attach with parameters…" asks first, "Attach only <program>" attaches one; a one-program probe has no "Attach only".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACH_PROBE_TITLE, ATTACH_WITH_PARAMETERS_TITLE, planAttachLenses } from '../../client/src/targets/attach-lenses';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { probePrograms } from '../../server/src/analysis/probe-programs';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

const ROOT = join(__dirname, '..', '..');

/** The programs the language server answers ebpfStudio/programs with. */
async function programsOf(text: string) {
  return probePrograms(await parseProbeFile(text, { targetKernel: runningKernelVersion() }));
}

test('an enter/exit probe: each program gets "▶ Attach probe" (all programs), "Attach with parameters…" and "Attach only <program>"', async () => {
  const text = readFileSync(join(ROOT, 'bpf-templates', 'syscall-latency', 'syscall-latency.bpf.c'), 'utf8');
  const lines = text.split('\n');
  const plans = planAttachLenses(await programsOf(text), 'syscall-latency.bpf.c', 'web1');
  assert.deepEqual(
    plans.map((p) => [lines[p.line].trim(), p.title, p.programs, p.command]),
    [
      ['SEC("raw_tp/sys_enter")', ATTACH_PROBE_TITLE, undefined, 'ebpfStudio.attachProbe'],
      ['SEC("raw_tp/sys_enter")', ATTACH_WITH_PARAMETERS_TITLE, undefined, 'ebpfStudio.attachWithParameters'],
      ['SEC("raw_tp/sys_enter")', 'Attach only sys_enter', ['sys_enter'], 'ebpfStudio.attachProbe'],
      ['SEC("raw_tp/sys_exit")', ATTACH_PROBE_TITLE, undefined, 'ebpfStudio.attachProbe'],
      ['SEC("raw_tp/sys_exit")', ATTACH_WITH_PARAMETERS_TITLE, undefined, 'ebpfStudio.attachWithParameters'],
      ['SEC("raw_tp/sys_exit")', 'Attach only sys_exit', ['sys_exit'], 'ebpfStudio.attachProbe'],
    ],
  );
  assert.equal(plans[0].tooltip, 'Load syscall-latency.bpf.c and attach all 2 of its programs (sys_enter, sys_exit) on web1, as one session');
  assert.match(plans[2].tooltip, /only sys_enter \(raw_tp\/sys_enter\) on web1/);
});

test('the README names the whole-probe lens by the title the lens shows', () => {
  assert.ok(readFileSync(join(ROOT, 'README.md'), 'utf8').includes(`**${ATTACH_PROBE_TITLE}**`), `README.md tells the reader to press **${ATTACH_PROBE_TITLE}**`);
});

test('a one-program probe shows no "Attach only", since attaching that program alone is the same', async () => {
  const text = readFileSync(join(ROOT, 'test', 'fixtures', 'editor-workspace', 'getppid-latency.bpf.c'), 'utf8');
  const plans = planAttachLenses(await programsOf(text), 'getppid-latency.bpf.c', 'local');
  assert.deepEqual(plans.map((p) => [p.title, p.programs, p.tooltip]), [
    [ATTACH_PROBE_TITLE, undefined, 'Load getppid-latency.bpf.c and attach it on local'],
    [ATTACH_WITH_PARAMETERS_TITLE, undefined, 'Choose the programs, the const volatile globals, map sizes and XDP mode, then attach on local'],
  ]);
});

test('a file with no programs (a header, maps only) shows no attach lens', async () => {
  assert.deepEqual(planAttachLenses(await programsOf('struct { __uint(type, BPF_MAP_TYPE_HASH); } counts SEC(".maps");\nchar LICENSE[] SEC("license") = "GPL";\n'), 'maps.bpf.h', 'local'), []);
});

test('four programs: four whole-probe and parameter lenses, each followed by its own "Attach only"', async () => {
  const text = readFileSync(join(ROOT, 'test', 'fixtures', 'targets', 'attach-errors.bpf.c'), 'utf8');
  const plans = planAttachLenses(await programsOf(text), 'attach-errors.bpf.c', 'local');
  assert.deepEqual(
    plans.map((p) => p.programs?.join() ?? p.title),
    ['on_kprobe', 'on_fentry', 'on_xdp', 'on_getppid'].flatMap((name) => [ATTACH_PROBE_TITLE, ATTACH_WITH_PARAMETERS_TITLE, name]),
  );
  assert.ok(plans.filter((p) => p.programs).every((p) => p.title === `Attach only ${p.programs?.[0]}`));
});
