// Tokenises eBPF C with the real TextMate engine (vscode-textmate + oniguruma) using our grammars,
// injected into tm-grammars' C grammar as VS Code does, and checks the scopes given to eBPF constructs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGrammarRegistry, tokenizeText, type Token } from '../../scripts/textmate-registry';

/** The scopes of the token whose text is exactly `text` (the nth such token). */
function scopesOf(tokens: Token[], text: string, nth = 0): string[] {
  const matches = tokens.filter((t) => t.text.trim() === text);
  assert.ok(matches.length > nth, `no token "${text}" in:\n${tokens.map((t) => JSON.stringify(t.text)).join(' ')}`);
  return matches[nth].scopes;
}

function assertScope(tokens: Token[], text: string, scope: string, nth = 0): void {
  const scopes = scopesOf(tokens, text, nth);
  assert.ok(scopes.includes(scope), `"${text}" has scopes ${scopes.join(' ')}; expected ${scope}`);
}

function assertNoScopeLike(tokens: Token[], text: string, pattern: RegExp): void {
  const scopes = scopesOf(tokens, text);
  assert.ok(!scopes.some((s) => pattern.test(s)), `"${text}" should not have ${pattern} but has ${scopes.join(' ')}`);
}

const registry = createGrammarRegistry();

for (const [language, scope] of [['bpf-c', 'source.bpf-c'], ['C (injected)', 'source.c']] as const) {
  test(`${language}: SEC names split into program type and attach target`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(grammar, 'SEC("tracepoint/syscalls/sys_enter_openat")\nint handle_openat(void *ctx)\n{\n\treturn 0;\n}');
    assertScope(tokens, 'SEC', 'keyword.other.section.ebpf');
    assertScope(tokens, 'tracepoint', 'entity.name.section.ebpf');
    assertScope(tokens, 'tracepoint', 'string.quoted.double.section.ebpf');
    assertScope(tokens, 'syscalls/sys_enter_openat', 'string.unquoted.attach-target.ebpf');
    assertScope(tokens, 'handle_openat', 'entity.name.function.c');
  });

  test(`${language}: the LICENSE section`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(grammar, 'char LICENSE[] SEC("license") = "Dual BSD/GPL";');
    assertScope(tokens, 'LICENSE', 'variable.other.license.ebpf');
    assertScope(tokens, 'license', 'entity.name.section.license.ebpf');
    assertScope(tokens, 'Dual BSD/GPL', 'constant.other.license.ebpf');
    assertScope(tokens, 'char', 'storage.type.built-in.primitive.c');
  });

  test(`${language}: map definition macros, map types and the .maps section`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(
      grammar,
      [
        'struct {',
        '\t__uint(type, BPF_MAP_TYPE_HASH);',
        '\t__uint(max_entries, 10240);',
        '\t__type(key, u32);',
        '\t__type(value, struct hist);',
        '\t__array(values, struct inner_map);',
        '\t__ulong(map_extra, 1);',
        '} hists SEC(".maps");',
      ].join('\n'),
    );
    for (const macro of ['__uint', '__type', '__array', '__ulong']) assertScope(tokens, macro, 'support.function.macro.map-definition.ebpf');
    assertScope(tokens, 'type', 'variable.other.member.map-field.ebpf');
    assertScope(tokens, 'max_entries', 'variable.other.member.map-field.ebpf');
    assertScope(tokens, 'BPF_MAP_TYPE_HASH', 'constant.language.ebpf');
    assertScope(tokens, '10240', 'constant.numeric.decimal.c');
    assertScope(tokens, '.maps', 'entity.name.section.ebpf');
  });

  test(`${language}: helper calls, CO-RE reads and program macros`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(
      grammar,
      [
        'SEC("kprobe/do_unlinkat")',
        'int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)',
        '{',
        '\tu64 *val = bpf_map_lookup_elem(&counts, &key);',
        '\tpid_t ppid = BPF_CORE_READ(task, real_parent, tgid);',
        '\tBPF_CORE_READ_INTO(&comm, task, comm);',
        '\tBPF_CORE_READ_STR_INTO(&fname, name, name);',
        '\tif (bpf_core_field_exists(task->__state)) bpf_printk("x");',
        '\treturn XDP_PASS;',
        '}',
        'int BPF_PROG(handle_exec, struct task_struct *p)',
      ].join('\n'),
    );
    assertScope(tokens, 'kprobe', 'entity.name.section.ebpf');
    assertScope(tokens, 'BPF_KPROBE', 'support.function.macro.program.ebpf');
    assertScope(tokens, 'do_unlinkat', 'string.unquoted.attach-target.ebpf');
    assertScope(tokens, 'do_unlinkat', 'entity.name.function.ebpf', 1);
    assertScope(tokens, 'bpf_map_lookup_elem', 'support.function.helper.ebpf');
    assertScope(tokens, 'bpf_printk', 'support.function.helper.ebpf');
    for (const read of ['BPF_CORE_READ', 'BPF_CORE_READ_INTO', 'BPF_CORE_READ_STR_INTO', 'bpf_core_field_exists']) {
      assertScope(tokens, read, 'support.function.co-re.ebpf');
    }
    assertNoScopeLike(tokens, 'bpf_core_field_exists', /helper/);
    assertScope(tokens, 'XDP_PASS', 'constant.language.ebpf');
    assertScope(tokens, 'BPF_PROG', 'support.function.macro.program.ebpf');
    assertScope(tokens, 'handle_exec', 'entity.name.function.ebpf');
  });

  test(`${language}: const volatile parameters`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(grammar, 'const volatile pid_t targ_tgid = 0;\nconst volatile bool targ_ms = false;');
    assertScope(tokens, 'const', 'storage.modifier.const.ebpf');
    assertScope(tokens, 'volatile', 'storage.modifier.volatile.ebpf');
    assertScope(tokens, 'const', 'meta.parameter.rodata.ebpf', 1);
  });

  test(`${language}: nothing eBPF inside comments and plain strings`, async () => {
    const grammar = await (await registry).loadGrammar(scope);
    assert.ok(grammar);
    const tokens = tokenizeText(grammar, '// call bpf_map_lookup_elem(&m, &k) in SEC("xdp")\nchar *s = "bpf_printk(x) and __uint(type, 1)";');
    const ebpfScoped = tokens.filter((t) => t.scopes.some((s) => s.endsWith('.ebpf')));
    assert.deepEqual(ebpfScoped.map((t) => t.text), []);
  });
}

test('plain C files keep the C grammar for ordinary code', async () => {
  const grammar = await (await registry).loadGrammar('source.c');
  assert.ok(grammar);
  const tokens = tokenizeText(grammar, 'static int add(int a, int b) { return a + b; }');
  assertScope(tokens, 'add', 'entity.name.function.c');
  assertScope(tokens, 'return', 'keyword.control.c');
  assert.ok(!tokens.some((t) => t.scopes.some((s) => s.endsWith('.ebpf'))));
});
