// `npm run gen:kernel`: turns data/ebpf-docs/*.yaml, data/gpl-only-helpers.yaml, data/measured/
// (facts measured on a real kernel) and libbpf's bpf_helper_defs.h into server/src/kernel/generated/*.json.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'server/src/kernel/generated');
const HELPER_DEFS = process.env.BPF_HELPER_DEFS ?? '/usr/include/bpf/bpf_helper_defs.h';

const LIBBPF_PROGRAM_TYPES = {
  BPF_PROG_TYPE_SOCKET_FILTER: 'socket_filter', BPF_PROG_TYPE_KPROBE: 'kprobe', BPF_PROG_TYPE_SCHED_CLS: 'sched_cls',
  BPF_PROG_TYPE_SCHED_ACT: 'sched_act', BPF_PROG_TYPE_TRACEPOINT: 'tracepoint', BPF_PROG_TYPE_XDP: 'xdp',
  BPF_PROG_TYPE_PERF_EVENT: 'perf_event', BPF_PROG_TYPE_CGROUP_SKB: 'cgroup_skb', BPF_PROG_TYPE_CGROUP_SOCK: 'cgroup_sock',
  BPF_PROG_TYPE_LWT_IN: 'lwt_in', BPF_PROG_TYPE_LWT_OUT: 'lwt_out', BPF_PROG_TYPE_LWT_XMIT: 'lwt_xmit',
  BPF_PROG_TYPE_SOCK_OPS: 'sock_ops', BPF_PROG_TYPE_SK_SKB: 'sk_skb', BPF_PROG_TYPE_CGROUP_DEVICE: 'cgroup_device',
  BPF_PROG_TYPE_SK_MSG: 'sk_msg', BPF_PROG_TYPE_RAW_TRACEPOINT: 'raw_tracepoint', BPF_PROG_TYPE_CGROUP_SOCK_ADDR: 'cgroup_sock_addr',
  BPF_PROG_TYPE_LWT_SEG6LOCAL: 'lwt_seg6local', BPF_PROG_TYPE_LIRC_MODE2: 'lirc_mode2', BPF_PROG_TYPE_SK_REUSEPORT: 'sk_reuseport',
  BPF_PROG_TYPE_FLOW_DISSECTOR: 'flow_dissector', BPF_PROG_TYPE_CGROUP_SYSCTL: 'cgroup_sysctl',
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: 'raw_tracepoint_writable', BPF_PROG_TYPE_CGROUP_SOCKOPT: 'cgroup_sockopt',
  BPF_PROG_TYPE_TRACING: 'tracing', BPF_PROG_TYPE_STRUCT_OPS: 'struct_ops', BPF_PROG_TYPE_EXT: 'ext', BPF_PROG_TYPE_LSM: 'lsm',
  BPF_PROG_TYPE_SK_LOOKUP: 'sk_lookup', BPF_PROG_TYPE_SYSCALL: 'syscall', BPF_PROG_TYPE_NETFILTER: 'netfilter',
};

const stripV = (version) => String(version).replace(/^v/, '');

/**
 * Expands a programs/groups entry list (name / group / exclude) into helper name → the kernel from
 * which that program type may call it (null: as long as the helper exists).
 */
function expand(entries, groups, seen = new Set()) {
  const names = new Map();
  const add = (name, since) => {
    const known = names.get(name);
    if (known === undefined || (known !== null && (since === null || compareVersions(since, known) < 0))) names.set(name, since);
  };
  const excluded = new Set();
  for (const entry of entries ?? []) {
    if (entry.name) add(entry.name, entry.since?.version != null ? stripV(entry.since.version) : null);
    else if (entry.group && !seen.has(entry.group)) {
      for (const [name, since] of expand(groups[entry.group], groups, new Set([...seen, entry.group]))) add(name, since);
    } else if (entry.exclude) excluded.add(entry.exclude);
  }
  for (const name of excluded) names.delete(name);
  return names;
}

function compareVersions(a, b) {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Each helper's doc block, prototype and id from bpf_helper_defs.h. */
function parseHelperDefs(text) {
  const helpers = {};
  const pattern = /\/\*\n((?: \*.*\n)+?) \*\/\nstatic ([^;]*?)\(\*(\w+)\)\(([^)]*)\) = \(void \*\) (\d+);/g;
  for (const match of text.matchAll(pattern)) {
    const [, comment, returnType, name, paramText, id] = match;
    const lines = comment.split('\n').map((line) => line.replace(/^ \* ?/, '').replace(/^\t/, ''));
    const body = lines.slice(1).join('\n').trim();
    const returnsAt = body.search(/^Returns$/m);
    const doc = (returnsAt >= 0 ? body.slice(0, returnsAt) : body).trim();
    const returns = returnsAt >= 0 ? body.slice(returnsAt + 'Returns'.length).trim() : '';
    const params = paramText.trim() === 'void' || paramText.trim() === '' ? [] : paramText.split(',').map((part) => {
      const param = part.trim();
      const nameMatch = /(\w+)$/.exec(param);
      return { type: nameMatch ? param.slice(0, -nameMatch[1].length).trim() : param, name: nameMatch ? nameMatch[1] : '' };
    });
    const ret = returnType.trim();
    helpers[name] = {
      name,
      id: Number(id),
      signature: `${ret}${ret.endsWith('*') ? '' : ' '}${name}(${params.map((p) => `${p.type}${p.type.endsWith('*') ? '' : ' '}${p.name}`).join(', ') || 'void'})`,
      returnType: ret,
      params,
      doc,
      returns,
    };
  }
  return helpers;
}

function generate() {
  const dataDir = join(root, 'data');
  const functions = parse(readFileSync(join(dataDir, 'ebpf-docs/helpers-functions.yaml'), 'utf8'));
  const features = parse(readFileSync(join(dataDir, 'ebpf-docs/feature-versions.yaml'), 'utf8'));
  const curatedGplOnly = new Set(parse(readFileSync(join(dataDir, 'gpl-only-helpers.yaml'), 'utf8')).helpers);
  const laterProgramTypes = parse(readFileSync(join(dataDir, 'helper-program-type-since.yaml'), 'utf8')).helpers;
  const measured = JSON.parse(readFileSync(join(dataDir, 'measured/helper-facts.json'), 'utf8'));
  const measuredGplOnly = new Set(measured.gplOnly);
  const measuredNotGplOnly = new Set(measured.notGplOnly);
  /** The kernel's answer where it gave one, the curated list otherwise. */
  const isGplOnly = (name) => measuredGplOnly.has(name) || (curatedGplOnly.has(name) && !measuredNotGplOnly.has(name));
  const defs = parseHelperDefs(readFileSync(HELPER_DEFS, 'utf8'));
  const featureGroup = (name) => Object.fromEntries((features.find((g) => g.name === name)?.features ?? []).map((f) => [f.name, stripV(f.version)]));

  const helperSince = featureGroup('helpers');
  const programTypesOf = {};
  const programTypeSinceOf = {};
  for (const [enumName, entries] of Object.entries(functions.programs ?? {})) {
    const libbpfName = LIBBPF_PROGRAM_TYPES[enumName];
    if (!libbpfName) continue;
    for (const [helper, since] of expand(entries, functions.groups)) {
      (programTypesOf[helper] ??= new Set()).add(libbpfName);
      if (since) (programTypeSinceOf[helper] ??= {})[libbpfName] = since;
    }
    // what the measured kernel offers beyond the documented tables, minus the verifier's explicit exclusions
    const excluded = new Set((entries ?? []).filter((e) => e.exclude).map((e) => e.exclude));
    for (const helper of measured.availability[libbpfName]?.available ?? []) {
      if (!excluded.has(helper)) (programTypesOf[helper] ??= new Set()).add(libbpfName);
    }
  }
  for (const [helper, byType] of Object.entries(laterProgramTypes)) Object.assign((programTypeSinceOf[helper] ??= {}), byType);
  const mapTypesOf = {};
  for (const [mapType, entries] of Object.entries(functions.maps ?? {})) {
    for (const entry of entries ?? []) if (entry.name) (mapTypesOf[entry.name] ??= new Set()).add(mapType);
  }
  const order = Object.values(LIBBPF_PROGRAM_TYPES);
  const helpers = {};
  for (const name of Object.keys(defs).sort((a, b) => defs[a].id - defs[b].id)) {
    helpers[name] = {
      ...defs[name],
      since: helperSince[name] ?? null,
      gplOnly: isGplOnly(name),
      programTypes: [...(programTypesOf[name] ?? [])].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      programTypesSince: Object.fromEntries(Object.entries(programTypeSinceOf[name] ?? {}).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))),
      mapTypes: [...(mapTypesOf[name] ?? [])].sort(),
    };
  }
  const programTypeSince = featureGroup('program_types');
  const versions = {
    /** The kernel build (uname -r) the measured part of the helper tables (data/measured/helper-facts.json) came from. */
    helperFactsMeasuredOn: measured.kernelRelease,
    programTypes: Object.fromEntries(Object.entries(LIBBPF_PROGRAM_TYPES).filter(([e]) => programTypeSince[e]).map(([e, n]) => [n, programTypeSince[e]])),
    mapTypes: featureGroup('map_types'),
    mapFlags: Object.fromEntries(Object.entries(featureGroup('flags')).filter(([flag]) => /^BPF_F_(NO_PREALLOC|NO_COMMON_LRU|NUMA_NODE|RDONLY|WRONLY|STACK_BUILD_ID|ZERO_SEED|RDONLY_PROG|WRONLY_PROG|CLONE|MMAPABLE|PRESERVE_ELEMS|INNER_MAP|LINK|PATH_FD|VTYPE_BTF_OBJ_FD|TOKEN_FD|SEGV_ON_FAULT|NO_USER_CONV)$/.test(flag))),
    attachTypes: featureGroup('attach_types'),
  };
  return {
    'helpers.json': JSON.stringify(helpers, null, 1) + '\n',
    'kernel-versions.json': JSON.stringify(versions, null, 1) + '\n',
  };
}

const outputs = generate();
if (process.argv.includes('--check')) {
  let stale = 0;
  for (const [file, content] of Object.entries(outputs)) {
    let current = '';
    try {
      current = readFileSync(join(outDir, file), 'utf8');
    } catch {
      current = '';
    }
    if (current !== content) {
      console.error(`${file} is not what the generator produces; run npm run gen:kernel`);
      stale++;
    }
  }
  process.exit(stale ? 1 : 0);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [file, content] of Object.entries(outputs)) writeFileSync(join(outDir, file), content);
  console.log(`wrote ${Object.keys(outputs).join(', ')} to ${outDir}`);
}
