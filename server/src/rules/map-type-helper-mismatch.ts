// Rule map-type-helper-mismatch: a map passed to a helper that does not accept its map type (ring buffer vs
// perf buffer APIs, lookups in perf/ringbuf/stack-trace maps …). Reads the file's map definitions and helper calls.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';

/** enum bpf_map_type values, as the verifier prints them. */
const MAP_TYPE_NUMBERS: Readonly<Record<string, number>> = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, STACK_TRACE: 7,
  CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13,
  DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25, STRUCT_OPS: 26,
  RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30, USER_RINGBUF: 31, CGRP_STORAGE: 32, ARENA: 33,
};

/** Map types that only work with their own helpers (the kernel's check_map_func_compatibility). */
const DEDICATED: Readonly<Record<string, string[]>> = {
  RINGBUF: ['bpf_ringbuf_output', 'bpf_ringbuf_reserve', 'bpf_ringbuf_query', 'bpf_ringbuf_reserve_dynptr'],
  USER_RINGBUF: ['bpf_user_ringbuf_drain'],
  PERF_EVENT_ARRAY: ['bpf_perf_event_read', 'bpf_perf_event_output', 'bpf_perf_event_read_value', 'bpf_skb_output', 'bpf_xdp_output'],
  PROG_ARRAY: ['bpf_tail_call'],
  STACK_TRACE: ['bpf_get_stackid'],
  CGROUP_ARRAY: ['bpf_skb_under_cgroup', 'bpf_current_task_under_cgroup'],
  QUEUE: ['bpf_map_peek_elem', 'bpf_map_pop_elem', 'bpf_map_push_elem'],
  STACK: ['bpf_map_peek_elem', 'bpf_map_pop_elem', 'bpf_map_push_elem'],
  BLOOM_FILTER: ['bpf_map_peek_elem', 'bpf_map_push_elem'],
  SK_STORAGE: ['bpf_sk_storage_get', 'bpf_sk_storage_delete'],
  INODE_STORAGE: ['bpf_inode_storage_get', 'bpf_inode_storage_delete'],
  TASK_STORAGE: ['bpf_task_storage_get', 'bpf_task_storage_delete'],
  CGRP_STORAGE: ['bpf_cgrp_storage_get', 'bpf_cgrp_storage_delete'],
};

/** Helpers that take only one kind of map, with the position of the map argument. */
const HELPER_MAPS: Readonly<Record<string, { index: number; types: string[] }>> = {
  bpf_ringbuf_output: { index: 0, types: ['RINGBUF'] },
  bpf_ringbuf_reserve: { index: 0, types: ['RINGBUF'] },
  bpf_ringbuf_query: { index: 0, types: ['RINGBUF'] },
  bpf_ringbuf_reserve_dynptr: { index: 0, types: ['RINGBUF'] },
  bpf_user_ringbuf_drain: { index: 0, types: ['USER_RINGBUF'] },
  bpf_perf_event_output: { index: 1, types: ['PERF_EVENT_ARRAY'] },
  bpf_skb_output: { index: 1, types: ['PERF_EVENT_ARRAY'] },
  bpf_xdp_output: { index: 1, types: ['PERF_EVENT_ARRAY'] },
  bpf_perf_event_read: { index: 0, types: ['PERF_EVENT_ARRAY'] },
  bpf_perf_event_read_value: { index: 0, types: ['PERF_EVENT_ARRAY'] },
  bpf_get_stackid: { index: 1, types: ['STACK_TRACE'] },
  bpf_tail_call: { index: 1, types: ['PROG_ARRAY'] },
  bpf_current_task_under_cgroup: { index: 0, types: ['CGROUP_ARRAY'] },
  bpf_skb_under_cgroup: { index: 1, types: ['CGROUP_ARRAY'] },
  bpf_sk_storage_get: { index: 0, types: ['SK_STORAGE'] },
  bpf_sk_storage_delete: { index: 0, types: ['SK_STORAGE'] },
  bpf_task_storage_get: { index: 0, types: ['TASK_STORAGE'] },
  bpf_task_storage_delete: { index: 0, types: ['TASK_STORAGE'] },
  bpf_inode_storage_get: { index: 0, types: ['INODE_STORAGE'] },
  bpf_inode_storage_delete: { index: 0, types: ['INODE_STORAGE'] },
  bpf_cgrp_storage_get: { index: 0, types: ['CGRP_STORAGE'] },
  bpf_cgrp_storage_delete: { index: 0, types: ['CGRP_STORAGE'] },
  bpf_map_push_elem: { index: 0, types: ['QUEUE', 'STACK', 'BLOOM_FILTER'] },
  bpf_map_pop_elem: { index: 0, types: ['QUEUE', 'STACK'] },
  bpf_map_peek_elem: { index: 0, types: ['QUEUE', 'STACK', 'BLOOM_FILTER'] },
};

/** Generic map helpers: any map type whose dedicated list does not include them is refused. */
const GENERIC_MAP_HELPERS = new Set(['bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_map_lookup_percpu_elem', 'bpf_for_each_map_elem']);

const ADVICE: Readonly<Record<string, string>> = {
  RINGBUF: 'a ring buffer is written with bpf_ringbuf_reserve()/submit() or bpf_ringbuf_output()',
  PERF_EVENT_ARRAY: 'a perf event array is written with bpf_perf_event_output()',
  STACK_TRACE: 'a stack trace map is filled by bpf_get_stackid() and read from user space',
  PROG_ARRAY: 'a program array is only used by bpf_tail_call()',
};


function mapArgumentName(arg: Node | undefined): string | null {
  if (!arg) return null;
  const expr = stripCasts(arg);
  const target = expr.type === 'pointer_expression' && expr.childForFieldName('operator')?.text === '&' ? stripCasts(expr.childForFieldName('argument') as Node) : null;
  return target?.type === 'identifier' ? target.text : null;
}

export function checkMapHelperTypes(file: ProbeFile, fn: ProbeFunction): Finding[] {
  const findings: Finding[] = [];
  for (const call of fn.helperCalls) {
    const name = call.helper.name;
    const fixed = HELPER_MAPS[name];
    const index = fixed ? fixed.index : GENERIC_MAP_HELPERS.has(name) ? 0 : -1;
    if (index < 0 || call.viaMacro) continue;
    const mapName = mapArgumentName(call.args[index]);
    const map = mapName ? file.mapNamed(mapName) : undefined;
    const type = map?.type?.replace(/^BPF_MAP_TYPE_/, '');
    if (!map || !type || !(type in MAP_TYPE_NUMBERS)) continue;
    const refused = fixed ? !fixed.types.includes(type) : DEDICATED[type] != null && !DEDICATED[type].includes(name);
    if (!refused) continue;
    const wanted = fixed ? fixed.types.map((t) => `BPF_MAP_TYPE_${t}`).join(' or ') : null;
    findings.push({
      range: file.rangeOf(call.args[index]),
      message:
        `${name}() cannot use '${mapName}', a BPF_MAP_TYPE_${type}` +
        (wanted ? `; it needs a ${wanted}` : '') +
        (ADVICE[type] ? ` (${ADVICE[type]})` : ''),
      verifierMessage: `cannot pass map_type ${MAP_TYPE_NUMBERS[type]} into func ${name}#${call.helper.id}`,
      path: [
        { range: map.fields.type?.range ?? map.nameRange, message: `'${mapName}' is declared here as a BPF_MAP_TYPE_${type}` },
        { range: file.rangeOf(call.args[index]), message: `passed to ${name}() here` },
      ],
    });
  }
  return findings;
}

export const mapTypeHelperMismatchRule: Rule = {
  id: 'map-type-helper-mismatch',
  description: 'A map is passed to a helper that does not accept its map type (ring buffer vs perf buffer helpers, lookups in perf/ring-buffer/stack-trace maps …).',
  verifierMessage: 'cannot pass map_type 4 into func bpf_ringbuf_reserve#131',
  checkFunction: checkMapHelperTypes,
};
