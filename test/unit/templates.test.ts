// Tests engine/templates: the bundled templates validate against the schema and their sources, bad
// template.json files get precise errors, parameters parse and map to load options, instantiation fills values in.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bundledTemplatesDir, listTemplates, loadTemplate } from '../../engine/templates/template-catalog';
import { instantiateTemplate, InstantiateError } from '../../engine/templates/instantiate-template';
import { TemplateManifestError, validateManifest } from '../../engine/templates/template-manifest';
import { parseParamAssignments, resolveTemplateDir, templateRunOptions, templateRunOptionsForProbe } from '../../engine/templates/template-run-options';
import { deviceNumber, histogramUnit, parseParameterText, resolveParameterValues, syscallNumber, templateLoadOptions, TemplateParameterError } from '../../engine/templates/template-parameters';

const REQUIRED_TEMPLATES = [
  'syscall-latency',
  'runqueue-latency',
  'block-io-latency',
  'tcp-connect-latency',
  'tcp-retransmits',
  'exec-tracer',
  'xdp-protocol-counter',
  'tc-egress-drops',
  'uprobe-latency',
  'file-open-tracer',
];

const scratch = mkdtempSync(join(tmpdir(), 'ebpf-templates-unit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function problemsOf(raw: unknown): string[] {
  try {
    validateManifest(raw);
  } catch (err) {
    assert.ok(err instanceof TemplateManifestError);
    return err.problems;
  }
  return [];
}

const validManifest = () => ({
  title: 'T',
  description: 'D',
  minKernel: '5.8',
  parameters: [{ name: 'pid', description: 'p', type: 'integer', default: 0, min: 0, global: 'targ_tgid' }],
  views: [{ kind: 'table', map: 'counts' }],
});

describe('bundled templates', () => {
  it('every template folder validates against the schema and its source', () => {
    const listing = listTemplates();
    assert.deepEqual(listing.broken, []);
    assert.deepEqual(listing.templates.map((t) => t.name).sort(), [...REQUIRED_TEMPLATES].sort());
    for (const template of listing.templates) {
      assert.match(template.sourcePath, new RegExp(`${template.name}\\.bpf\\.c$`));
      const source = readFileSync(template.sourcePath, 'utf8');
      assert.match(source, /char LICENSE\[\] SEC\("license"\) = "GPL";/, template.name);
      assert.match(source, /#include "vmlinux.h"/, template.name);
      if (template.manifest.views.some((v) => v.kind === 'histogram')) assert.match(source, /if \(slot >= MAX_SLOTS\)\n\s+slot = MAX_SLOTS - 1;/, template.name);
    }
  });
});

describe('docs/templates.md', () => {
  it('lists every bundled template with its title and parameters', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'templates.md'), 'utf8');
    for (const template of listTemplates().templates) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${template.name}\` |`));
      assert.ok(row, `docs/templates.md has no row for ${template.name}`);
      const cells = row.split(' | ');
      assert.equal(cells[1], template.manifest.title, template.name);
      assert.equal(cells[3].replace(/ \|$/, ''), template.manifest.parameters.map((p) => `\`${p.name}\``).join(', '), template.name);
    }
  });
});

describe('template.json validation', () => {
  it('accepts a minimal manifest', () => {
    assert.deepEqual(problemsOf(validManifest()), []);
  });

  it('names each problem with its JSON path', () => {
    const problems = problemsOf({
      title: '',
      minKernel: '5.8.0',
      parameters: [
        { name: '1pid', description: 'p', type: 'integer', default: 'zero', global: 'targ_tgid' },
        { name: 'ifc', description: 'i', type: 'interface', default: 'eth0', global: 'ifindex' },
        { name: 'both', description: 'b', type: 'integer', default: 1 },
        { name: 'bin', description: 'b', type: 'path', default: '/bin/x', attach: { option: 'binary', programs: [] } },
      ],
      views: [
        { kind: 'histogram', map: 'hists', unit: 'seconds', scale: 'log2', slotsField: 'slots' },
        { kind: 'pie', map: 'x' },
        { kind: 'histogram', map: 'h', unit: { parameter: 'nope' }, scale: 'log3', slotsField: 'slots' },
      ],
      extra: 1,
    });
    const expected = [
      '$.extra: is not a known field',
      '$.title: must be a non-empty string',
      '$.description: is required',
      '$.minKernel: must be a kernel version "major.minor"',
      '$.parameters[0].name: "1pid" must be an identifier',
      '$.parameters[0].default: must be an integer for type integer, not string "zero"',
      '$.parameters[1].type: a interface parameter cannot set a const volatile global',
      '$.parameters[2]: must set exactly one of "global"',
      '$.parameters[3].attach.option: must be one of ifname, xdpMode, cgroupPath, binaryPath, symbol, pid, not string "binary"',
      '$.parameters[3].attach.programs: must be a non-empty array',
      '$.views[0].unit: must be one of ns, us, ms',
      '$.views[1].kind: must be "histogram", "table" or "events", not string "pie"',
      '$.views[2].scale: must be "log2" or "linear"',
      '$.views[2].unit.parameter: names no parameter of this template: string "nope"',
    ];
    for (const text of expected) assert.ok(problems.some((p) => p.startsWith(text)), `missing problem "${text}" in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expected.length, problems.join('\n'));
  });

  it('rejects duplicate parameter names and an empty view list', () => {
    const manifest = { ...validManifest(), views: [] as unknown[] };
    manifest.parameters.push({ ...manifest.parameters[0] });
    const problems = problemsOf(manifest);
    assert.ok(problems.includes('$.parameters[1].name: "pid" is declared twice'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('$.views: must be a non-empty array')), problems.join('\n'));
  });

  it('reports names the source does not declare, and unreadable JSON, when loading a folder', () => {
    const dir = join(scratch, 'mismatch');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mismatch.bpf.c'), 'const volatile int other = 0;\nstruct { int x; } counts SEC(".maps");\nSEC("xdp")\nint prog(void *ctx)\n{ return 2; }\n');
    writeFileSync(join(dir, 'template.json'), JSON.stringify({ ...validManifest(), views: [{ kind: 'table', map: 'missing' }], attach: { nothere: { ifname: 'lo' } } }));
    assert.throws(
      () => loadTemplate(dir),
      (err: unknown) =>
        err instanceof TemplateManifestError &&
        err.problems.includes('$.parameters[0].global: mismatch.bpf.c declares no `const volatile` global "targ_tgid"') &&
        err.problems.includes('$.views[0].map: mismatch.bpf.c declares no map "missing" (maps: counts)') &&
        err.problems.includes('attach.nothere: mismatch.bpf.c has no program "nothere" (programs: prog)'),
    );
    writeFileSync(join(dir, 'template.json'), '{ "title": ');
    assert.throws(() => loadTemplate(dir), /template\.json is not a valid template: not valid JSON/);
    assert.throws(() => loadTemplate(scratch), /has no template\.json/);
  });
});

describe('template parameters', () => {
  const syscallLatency = loadTemplate(join(bundledTemplatesDir(), 'syscall-latency'));
  const xdp = loadTemplate(join(bundledTemplatesDir(), 'xdp-protocol-counter'));
  const uprobe = loadTemplate(join(bundledTemplatesDir(), 'uprobe-latency'));

  it('resolves syscall names per architecture and explains unknown ones', () => {
    assert.equal(syscallNumber('openat', 'x86_64'), 257);
    assert.equal(syscallNumber('openat', 'aarch64'), 56);
    assert.equal(syscallNumber('sys_read', 'x86_64'), 0);
    assert.equal(syscallNumber('42', 'riscv64'), 42);
    assert.throws(() => syscallNumber('opnat', 'x86_64'), /"opnat" is not a x86_64 syscall/);
    assert.throws(() => syscallNumber('read', 'riscv64'), /give the syscall's number/);
  });

  it('parses text by type with the accepted form in the error', () => {
    const [syscall, pid, perProcess, unit] = syscallLatency.manifest.parameters;
    assert.equal(parseParameterText(pid, ' 42 '), 42);
    assert.throws(() => parseParameterText(pid, '-1'), (e: unknown) => e instanceof TemplateParameterError && /takes an integer ≥ 0, not "-1"/.test(e.message));
    assert.throws(() => parseParameterText(pid, 'abc'), /Parameter "pid" takes an integer, not "abc"/);
    assert.equal(parseParameterText(perProcess, 'yes'), true);
    assert.throws(() => parseParameterText(perProcess, 'maybe'), /takes true or false/);
    assert.equal(parseParameterText(unit, 'ms'), 'ms');
    assert.throws(() => parseParameterText(unit, 's'), /takes ns, us or ms/);
    assert.equal(parseParameterText(syscall, '257'), 257);
    assert.equal(deviceNumber('7:3'), (7 << 20) | 3);
    assert.throws(() => deviceNumber('sda'), /write it as major:minor/);
  });

  it('maps values to const volatile globals for the target architecture', () => {
    const values = resolveParameterValues(syscallLatency.manifest, { syscall: 'openat', perProcess: 'true', unit: 'ms' });
    assert.deepEqual(values, { syscall: 'openat', pid: 0, perProcess: true, unit: 'ms' });
    assert.deepEqual(templateLoadOptions(syscallLatency.manifest, values, 'x86_64'), {
      globals: { targ_syscall: 257, targ_tgid: 0, per_process: true, unit_divisor: 1_000_000 },
      attach: {},
    });
    assert.equal(templateLoadOptions(syscallLatency.manifest, values, 'aarch64').globals.targ_syscall, 56);
    const view = syscallLatency.manifest.views[0];
    assert.equal(view.kind, 'histogram');
    if (view.kind === 'histogram') assert.equal(histogramUnit(view, values), 'ms');
    assert.throws(() => resolveParameterValues(syscallLatency.manifest, { syscal: 'read' }), /has no parameter "syscal"; its parameters are syscall, pid, perProcess, unit/);
  });

  it('maps interface, binary and symbol to attach options of the named programs', () => {
    assert.deepEqual(templateLoadOptions(xdp.manifest, resolveParameterValues(xdp.manifest, { interface: 'veth0' })).attach, { xdp_count_protocols: { ifname: 'veth0' } });
    const options = templateLoadOptions(uprobe.manifest, resolveParameterValues(uprobe.manifest, { symbol: 'free' }));
    assert.deepEqual(options.attach.function_entry, { binaryPath: 'libc.so.6', symbol: 'free' });
    assert.deepEqual(options.attach.function_return, options.attach.function_entry);
  });
});

describe('run options of a template folder', () => {
  it('maps --param NAME=VALUE assignments to globals and attach options', () => {
    const options = templateRunOptions(join(bundledTemplatesDir(), 'tc-egress-drops'), ['interface=veth1', 'protocol=17', 'port=53'], 'x86_64');
    assert.equal(options.template.name, 'tc-egress-drops');
    assert.deepEqual(options.values, { interface: 'veth1', protocol: 17, port: 53 });
    assert.deepEqual(options.globals, { drop_protocol: 17, drop_dport: 53 });
    assert.deepEqual(options.attach, { tc_egress_drops: { direction: 'egress', ifname: 'veth1' } });
  });

  it('rejects malformed and repeated assignments', () => {
    assert.deepEqual(parseParamAssignments(['a=b=c', 'x=']), { a: 'b=c', x: '' });
    assert.throws(() => parseParamAssignments(['pid']), /--param takes NAME=VALUE, not "pid"/);
    assert.throws(() => parseParamAssignments(['pid=1', 'pid=2']), /--param pid is given twice/);
    assert.throws(() => templateRunOptions(join(bundledTemplatesDir(), 'tc-egress-drops'), ['protocol=300'], 'x86_64'), /takes an integer ≤ 255/);
  });

  it('finds a template folder by path or bundled name', () => {
    assert.equal(resolveTemplateDir('exec-tracer'), join(bundledTemplatesDir(), 'exec-tracer'));
    assert.equal(resolveTemplateDir(join(bundledTemplatesDir(), 'exec-tracer')), join(bundledTemplatesDir(), 'exec-tracer'));
    assert.throws(() => resolveTemplateDir('no-such-template'), /neither a template folder nor the name of a bundled template/);
    assert.throws(() => resolveTemplateDir(scratch), /has no template\.json/);
  });

  it('gives a probe created from a template its saved values, and nothing for a plain probe', () => {
    const xdp = loadTemplate(join(bundledTemplatesDir(), 'xdp-protocol-counter'));
    const probe = instantiateTemplate(xdp, { targetDir: join(scratch, 'xdp-probe'), values: { interface: 'veth7' } });
    assert.deepEqual(templateRunOptionsForProbe(probe.sourcePath, 'x86_64')?.attach, { xdp_count_protocols: { ifname: 'veth7' } });
    const plain = join(scratch, 'plain.bpf.c');
    writeFileSync(plain, '');
    assert.equal(templateRunOptionsForProbe(plain, 'x86_64'), undefined);
  });
});

describe('instantiating a template', () => {
  const template = loadTemplate(join(bundledTemplatesDir(), 'syscall-latency'));

  it('writes the source with the chosen values as initializers and a template.json with them as defaults', () => {
    const probe = instantiateTemplate(template, { targetDir: join(scratch, 'probe', 'nested'), values: { syscall: 'openat', unit: 'ns', perProcess: true }, machine: 'x86_64' });
    const source = readFileSync(probe.sourcePath, 'utf8');
    assert.match(source, /^const volatile long targ_syscall = 257;\t\t\/\* syscall number to time/m);
    assert.match(source, /^const volatile bool per_process = true;/m);
    assert.match(source, /^const volatile __u64 unit_divisor = 1;/m);
    assert.match(source, /^const volatile __u32 targ_tgid = 0;/m);
    const original = readFileSync(template.sourcePath, 'utf8');
    assert.equal(source.split('\n').length, original.split('\n').length);
    const copied = loadTemplate(probe.dir);
    assert.deepEqual(
      copied.manifest.parameters.map((p) => p.default),
      ['openat', 0, true, 'ns'],
    );
  });

  it('refuses to overwrite files and leaves them untouched', () => {
    const dir = join(scratch, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'syscall-latency.bpf.c'), 'mine');
    assert.throws(() => instantiateTemplate(template, { targetDir: dir }), (e: unknown) => e instanceof InstantiateError && /syscall-latency\.bpf\.c already exist/.test(e.message));
    assert.equal(readFileSync(join(dir, 'syscall-latency.bpf.c'), 'utf8'), 'mine');
  });

  it('rejects a bad value before writing anything', () => {
    const dir = join(scratch, 'bad-value');
    assert.throws(() => instantiateTemplate(template, { targetDir: dir, values: { pid: 'me' } }), /Parameter "pid" takes an integer/);
    assert.throws(() => readFileSync(join(dir, 'template.json')), /ENOENT/);
  });
});
