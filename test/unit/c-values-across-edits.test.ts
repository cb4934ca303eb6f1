// Struct layouts, #defines and type sizes (c-values.ts) are reused across edits while the text outside
// function bodies stays the same: after each edit the diagnostics must equal a fresh check of the new text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ProbeWorkspace } from '../../server/src/features/probe-workspace';

const URI = 'file:///c-values-edits.bpf.c';

const BASE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define COMM_SIZE 64

struct flow_key { __u32 pid; __u16 family; __u64 cgroup; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, __u64);
} flows SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int count_open(void *ctx)
{
	struct flow_key key;
	__u64 one = 1;
	char comm[COMM_SIZE];

	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.family = 2;
	key.cgroup = 0;
	bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
	bpf_get_current_comm(comm, sizeof(comm));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Each edit: a description and the text after it (each starts from the text before). */
const EDITS: [string, (text: string) => string][] = [
  ['a comment inside the body', (t) => t.replace('key.family = 2;', 'key.family = 2; /* edited */')],
  ['a field added to the struct outside bodies', (t) => t.replace('__u64 cgroup; };', '__u64 cgroup; __u32 tid; };')],
  ['a #define inside the body makes an array too big for the stack', (t) => t.replace('\tchar comm[COMM_SIZE];', '#define COMM_SIZE 640\n\tchar comm[COMM_SIZE];')],
  ['the #define inside the body removed again', (t) => t.replace('#define COMM_SIZE 640\n', '')],
  ['a struct defined inside the body is used as a key', (t) => t.replace('\treturn 0;\n}', '\tstruct local_key { __u32 a; __u64 b; } lk;\n\tlk.a = 1;\n\tbpf_map_update_elem(&flows, &lk, &one, BPF_ANY);\n\treturn 0;\n}')],
  ['a #define outside bodies changed', (t) => t.replace('#define COMM_SIZE 64', '#define COMM_SIZE 600')],
];

/**
 * Diagnostics of each text checked from scratch in another process: rules keep their own caches across
 * documents, so a check in this process could reuse what the incremental path computed.
 */
function freshDiagnostics(texts: string[]): string[][] {
  const workspaceModule = join(__dirname, '../../server/src/features/probe-workspace.ts');
  const script = `
    const { ProbeWorkspace } = require(${JSON.stringify(workspaceModule)});
    (async () => {
      const texts = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const results = [];
      for (const [index, text] of texts.entries()) {
        const workspace = new ProbeWorkspace();
        workspace.setTargetKernel('6.1');
        const uri = 'file:///fresh-' + index + '.bpf.c';
        await workspace.update(uri, text);
        results.push(workspace.diagnostics(uri).map((d) => d.range.start.line + ':' + d.code + ' ' + d.message));
      }
      process.stdout.write(JSON.stringify(results));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { input: JSON.stringify(texts), encoding: 'utf8' })) as string[][];
}

test('diagnostics after each edit equal a fresh check of the same text', async () => {
  const texts = [BASE];
  for (const [what, edit] of EDITS) {
    const next = edit(texts[texts.length - 1]);
    assert.notEqual(next, texts[texts.length - 1], `the edit "${what}" applies`);
    texts.push(next);
  }
  const expected = freshDiagnostics(texts);
  assert.ok(expected[0].some((d) => d.includes('uninitialized-stack-memory')), `the base probe has a finding: ${expected[0].join('\n')}`);
  assert.ok(new Set(expected.map((e) => e.join('\n'))).size >= 3, 'the edits change the findings');
  const workspace = new ProbeWorkspace();
  workspace.setTargetKernel('6.1');
  for (const [index, text] of texts.entries()) {
    await workspace.update(URI, text);
    workspace.quickDiagnostics(URI);
    const actual = workspace.diagnostics(URI).map((d) => `${d.range.start.line}:${d.code} ${d.message}`);
    assert.deepEqual(actual, expected[index], index === 0 ? 'before any edit' : `after ${EDITS[index - 1][0]}`);
  }
});
