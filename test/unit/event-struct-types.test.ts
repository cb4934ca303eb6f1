// Which struct a probe's ring/perf buffer receives, read from the real probes' sources (../shared/realworld, in place),
// and the type-anchor wrapper that puts every struct the probe defines into BTF. Pure text; no compiler here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { definedStructNames, eventStructsByMap, probeSourceTexts, typeAnchorSource } from '../../engine/toolchain/event-struct-types';

const REALWORLD = resolve(__dirname, '..', '..', '..', 'shared', 'realworld');
const skip = existsSync(REALWORLD) ? false : process.env.CI === 'true' ? assert.fail(`needs ${REALWORLD}`) : `needs ${REALWORLD}`;

test('the struct each buffer receives: reserve through a pointer, perf output of a stack struct or a pointer', { skip }, () => {
  const of = (dir: string, name: string) => eventStructsByMap(probeSourceTexts(join(REALWORLD, dir, `${name}.bpf.c`)).values());
  assert.deepEqual(of('libbpf-bootstrap', 'bootstrap').get('rb'), ['event']);
  assert.deepEqual(of('libbpf-bootstrap', 'bootstrap_legacy').get('perf_buffer'), ['event']);
  assert.deepEqual(of('libbpf-tools', 'execsnoop').get('events'), ['event']);
  assert.deepEqual(of('libbpf-tools', 'bindsnoop').get('events'), ['bind_event']);
  assert.deepEqual(of('libbpf-tools', 'javagc').get('perf_map'), ['data_t']);
});

test('local headers are read (quoted includes, not vmlinux.h) and their structs anchored', { skip }, () => {
  const texts = probeSourceTexts(join(REALWORLD, 'libbpf-tools', 'opensnoop.bpf.c'));
  assert.ok([...texts.keys()].some((p) => p.endsWith('opensnoop.h')));
  assert.ok([...texts.keys()].some((p) => p.endsWith('path_helpers.h')));
  const names = definedStructNames(texts.values());
  assert.ok(names.tags.includes('event') && names.tags.includes('full_path') && names.tags.includes('args_t'));
  const wrapper = typeAnchorSource('/x/opensnoop.bpf.c', names);
  assert.match(wrapper, /^#include "\/x\/opensnoop\.bpf\.c"\n/);
  assert.match(wrapper, /^struct event \*__ebpf_studio_struct_\d+;$/m);
  assert.match(typeAnchorSource('/x/opensnoop.bpf.c', names, true), /^#include "vmlinux\.h"\n#include "\/x\/opensnoop\.bpf\.c"\n/);
});

test('typedef structs and comments', () => {
  const names = definedStructNames(['typedef struct { int a; struct { int b; } in; } data_t;\n/* struct hidden { int x; }; */\nstruct real { int y; };']);
  assert.deepEqual(names, { tags: ['real'], typedefs: ['data_t'] });
  const byMap = eventStructsByMap(['data_t d = {};\nbpf_ringbuf_output(&out, &d, sizeof(d), 0);\nstruct real *r = bpf_ringbuf_reserve(&rb, sizeof(struct real), 0);']);
  assert.deepEqual(byMap.get('out'), ['data_t']);
  assert.deepEqual(byMap.get('rb'), ['real']);
});
