// `ebpf-studio run FILE|TEMPLATE_DIR [--target T] [--param N=V]… [--duration S] [--interval S] [--format F]`: compile,
// load, attach, print stats and BTF-decoded maps each interval until the end or Ctrl-C, then detach. Talks to the agent.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import type { AttachOptions, HelloResult, LoadParams, LoadResult, MapSize, SessionProgram } from '../../protocol/agent-rpc';
import type { AgentClient } from '../../engine/targets/agent-client';
import { compileForTarget, eventTypesForTarget } from '../../engine/targets/target-compile';
import { parseBtf, type Btf } from '../../engine/btf/btf-types';
import { hexAddress, isKernelAddress, stackAddresses, stackFrames } from '../../engine/live-data/stack-symbols';
import { userStackOwners } from '../../engine/live-data/stack-owners';
import { EventPrinter } from './event-printer';
import { agentChunkSource, readMapSnapshot, type BtfCache } from '../../engine/live-data/map-snapshot';
import { compileMapDecoder, decodeEntries, type DecodedValue } from '../../engine/btf/value-decoder';
import { isTemplateDir } from '../../engine/templates/template-catalog';
import { parseParamAssignments, templateRunOptions } from '../../engine/templates/template-run-options';
import { connectCliTarget } from './target-connect';
import { MAP_SIZE_OPTION, MAP_SIZE_USAGE, parseMapSizes } from './map-size-option';
import { parseCommandLine, TARGET_OPTIONS, TARGET_USAGE, targetConnectOptions, UsageError } from './command-line';

export const RUN_USAGE = `Usage: ebpf-studio run FILE|TEMPLATE_DIR [options]

Compiles the probe for the target, loads and attaches it, prints results every interval until the duration
ends or Ctrl-C, then detaches (the kernel frees everything; nothing is pinned).

${TARGET_USAGE}
  --duration S          stop after S seconds (default: until Ctrl-C)
  --interval S          print every S seconds (default 1)
  --param NAME=VALUE    set a const volatile global before load (repeatable); for a template, one of its
                        parameters. ifname, direction, xdpMode (native|generic|offload; default native,
                        then generic when the driver refuses), cgroupPath, binaryPath, symbol, pid,
                        frequencyHz, usdtProvider and usdtName set attach options of every program instead
  --program NAME        load only this program (repeatable); default: every program, one variant per handler
                        (tp_btf over raw_tp over tracepoint, fentry over kprobe), the others shown as not loaded
${MAP_SIZE_USAGE}
  --format text|json    json: one object per line {"t","target","programs","maps"} per interval, and one per
                        ring/perf buffer event {"t","target","events":MAP,"fields"} decoded through BTF;
                        text: a table of at most 20 events per buffer per interval, with the drop count
  -I DIR                extra include directory (repeatable)
  --clang PATH          clang to compile with`;

export interface RunOptions {
  path: string;
  target: string;
  identity?: string;
  knownHosts?: string;
  durationS?: number;
  intervalS: number;
  params: string[];
  programs: string[];
  mapSizes: Record<string, MapSize>;
  format: 'text' | 'json';
  includePaths: string[];
  clangPath?: string;
}

const ATTACH_PARAMS = new Set(['ifname', 'direction', 'xdpMode', 'cgroupPath', 'binaryPath', 'symbol', 'pid', 'frequencyHz', 'usdtProvider', 'usdtName']);

/** Node's timers take at most 2^31 - 1 ms (about 24.8 days); a longer wait would fire at once. */
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function positiveSeconds(flag: string, text: string): number {
  const n = /^\s*\d*\.?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= MAX_SECONDS)) throw new UsageError(`${flag} takes a number of seconds from 0.001 to ${MAX_SECONDS}, not "${text}".`);
  return Math.max(n, 0.001);
}

/** Attach options that are numbers: pid (-1 = every process) and frequencyHz, as the agent's schema takes them. */
const NUMERIC_ATTACH_PARAMS: Record<string, [number, number]> = { pid: [-1, 4 * 1024 * 1024], frequencyHz: [1, 100_000] };

function attachNumber(name: string, text: string): number {
  const [min, max] = NUMERIC_ATTACH_PARAMS[name];
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw new UsageError(`--param ${name} takes a whole number from ${min} to ${max}, not "${text}".`);
  return n;
}

export function parseRunArgs(args: string[]): RunOptions {
  const { values, positionals } = parseCommandLine(args, {
    ...TARGET_OPTIONS,
    duration: { type: 'string' },
    interval: { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
    program: { type: 'string', multiple: true, default: [] },
    ...MAP_SIZE_OPTION,
    include: { type: 'string', short: 'I', multiple: true, default: [] },
    clang: { type: 'string' },
    format: { type: 'string', default: 'text' },
  });
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format is text or json, not "${values.format}".`);
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `run takes one FILE or TEMPLATE_DIR, got ${positionals.join(', ')}.` : 'run needs a FILE or TEMPLATE_DIR.');
  const mapSizes = parseMapSizes(values['map-size']);
  return {
    path: positionals[0],
    target: values.target,
    ...targetConnectOptions(values),
    ...(values.duration !== undefined ? { durationS: positiveSeconds('--duration', values.duration) } : {}),
    intervalS: values.interval !== undefined ? positiveSeconds('--interval', values.interval) : 1,
    params: values.param,
    programs: values.program,
    mapSizes,
    format: values.format,
    includePaths: values.include,
    ...(values.clang ? { clangPath: values.clang } : {}),
  };
}

/** Plain probe: --param NAME=VALUE sets globals, except the attach option names, which apply to every program. */
function fileLoadOptions(params: string[]): Pick<LoadParams, 'globals' | 'attach'> {
  const given = parseParamAssignments(params);
  const globals: Record<string, string> = {};
  const shared: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(given)) {
    if (ATTACH_PARAMS.has(name)) shared[name] = name in NUMERIC_ATTACH_PARAMS ? attachNumber(name, value) : value;
    else globals[name] = value;
  }
  const attach: Record<string, AttachOptions> = Object.keys(shared).length ? { '*': shared as AttachOptions } : {};
  return { globals, attach };
}

interface Sample {
  t: number;
  target: string;
  programs: { name: string; section: string; run_cnt: number; run_time_ns: number }[];
  maps: Record<string, { key: DecodedValue; value: DecodedValue }[]>;
  /** Maps shown without entries, with why: user space cannot read their type, or this read failed. */
  unreadable?: Record<string, string>;
}

async function sample(client: AgentClient, loaded: LoadResult, started: number, btfCache: BtfCache): Promise<Sample> {
  const stats = await client.request('stats', { session: loaded.session });
  const maps: Sample['maps'] = {};
  const unreadable: Record<string, string> = {};
  const stackValues = new Map<string, Uint8Array[]>();
  for (const map of loaded.maps.filter((m) => !m.internal)) {
    if (map.unreadable) {
      unreadable[map.name] = `not readable from user space: ${map.unreadable}`;
      continue;
    }
    try {
      const snapshot = await readMapSnapshot(agentChunkSource(client), { session: loaded.session, map: map.name }, { btfCache });
      const btf = snapshot.layout.keyTypeId || snapshot.layout.valueTypeId ? btfCache.get(snapshot.info.btfId)?.btf : undefined;
      const entries = decodeEntries(compileMapDecoder(snapshot.layout, btf), snapshot.layout.keySize, snapshot.keys, snapshot.values, snapshot.count);
      if (map.type === 'stack_trace') {
        // Keyed by stack id (a u32, often declared without BTF); named below, once every map is read (the process
        // that recorded a user stack is in another map).
        if (snapshot.layout.keySize === 4) entries.forEach((e, i) => (e.key = Buffer.from(snapshot.keys.buffer, snapshot.keys.byteOffset + i * 4, 4).readUInt32LE()));
        stackValues.set(map.name, entries.map((_, i) => snapshot.values.subarray(i * snapshot.valueStride, (i + 1) * snapshot.valueStride)));
      }
      maps[map.name] = entries;
    } catch (e) {
      if (client.isClosed) throw e;
      unreadable[map.name] = (e as Error).message;
    }
  }
  if (stackValues.size) await nameStacks(client, maps, stackValues);
  return {
    t: Math.round((Date.now() - started) / 100) / 10,
    target: client.targetName,
    programs: stats.programs.map((p) => ({ name: p.name, section: p.section, run_cnt: p.runCnt, run_time_ns: p.runTimeNs })),
    maps,
    ...(Object.keys(unreadable).length ? { unreadable } : {}),
  };
}

/** Addresses per stackSymbols request (the protocol takes up to 65,536). */
const STACK_SYMBOLS_PER_REQUEST = 4096;

/**
 * Stack-trace map entries (a stack id → its raw value) become frames named by the target's agent: kernel ones from
 * its kallsyms, user ones from the mapped files of the process another map says recorded that stack.
 */
async function nameStacks(client: AgentClient, maps: Sample['maps'], stackValues: Map<string, Uint8Array[]>): Promise<void> {
  const owners = userStackOwners(Object.entries(maps).filter(([name]) => !stackValues.has(name)).map(([, entries]) => entries));
  /** Addresses to name per process (kernel ones under 0: they are the same in every process). */
  const wanted = new Map<number, Set<string>>();
  for (const [name, values] of stackValues) {
    maps[name].forEach((e, i) => {
      const pid = owners.get(e.key as number);
      for (const ip of stackAddresses(values[i])) {
        const owner = isKernelAddress(ip) ? 0 : pid;
        if (owner === undefined) continue;
        const addresses = wanted.get(owner) ?? new Set<string>();
        addresses.add(hexAddress(ip));
        wanted.set(owner, addresses);
      }
    });
  }
  const names = new Map<string, string>();
  const userNames = new Map<number, Map<string, string>>();
  for (const [owner, addresses] of wanted) {
    const list = [...addresses];
    const named = owner === 0 ? names : new Map<string, string>();
    for (let from = 0; from < list.length; from += STACK_SYMBOLS_PER_REQUEST) {
      const part = list.slice(from, from + STACK_SYMBOLS_PER_REQUEST);
      const { frames } = await client.request('stackSymbols', { ...(owner ? { pid: owner } : {}), addresses: part });
      part.forEach((a, i) => named.set(a, frames[i]));
    }
    if (owner !== 0) userNames.set(owner, named);
  }
  for (const [name, values] of stackValues) {
    maps[name].forEach((e, i) => {
      const user = userNames.get(owners.get(e.key as number) ?? 0);
      e.value = stackFrames(values[i], user ? new Map([...names, ...user]) : names);
    });
  }
}

/** The session's decoding BTF (see the agent's objectBtf), parsed; undefined when absent or unreadable (records then print in hex). */
function eventsBtf(raw: string | undefined): Btf | undefined {
  if (!raw) return undefined;
  try {
    return parseBtf(new Uint8Array(Buffer.from(raw, 'base64')));
  } catch {
    return undefined;
  }
}

/** One line per program after load: attached (and how), not attached (why), or not loaded (variant left out, or refused). */
function programLine(p: SessionProgram, target: string): string {
  if (p.notLoaded) return `not loaded ${p.name} (${p.section}): ${p.notLoaded}`;
  if (p.attached) return `attached ${p.name} (${p.section}) on ${target}, program id ${p.id}${p.attachNote ? ` (${p.attachNote})` : ''}`;
  return `NOT attached ${p.name}: ${p.attachError}${p.attachNote ? ` (${p.attachNote})` : ''}`;
}

/** Why nothing runs, in one sentence naming the missing kernel feature when every program needs the same one. */
function nothingAttached(loaded: LoadResult, hello: HelloResult, objectName: string): string {
  const tried = loaded.programs.filter((p) => !p.notLoaded);
  const kprobe = /^(kprobe|kretprobe|ksyscall|kretsyscall|kprobe\.multi|kretprobe\.multi)(\/|$)/;
  if (hello.kprobes === false && tried.length > 0 && tried.every((p) => kprobe.test(p.section))) {
    return `${objectName} cannot run on ${hello.kernelRelease}: every program is a kprobe and this kernel has no kprobes (CONFIG_KPROBES is off).`;
  }
  return 'no program could be attached (see above).';
}

function printText(out: Writable, s: Sample): void {
  const lines = [`--- ${s.target} t=${s.t}s`];
  for (const p of s.programs) {
    const avg = p.run_cnt ? ` avg ${Math.round(p.run_time_ns / p.run_cnt)} ns` : '';
    lines.push(`  ${p.name} (${p.section}): ${p.run_cnt} runs, ${p.run_time_ns} ns${avg}`);
  }
  for (const [name, why] of Object.entries(s.unreadable ?? {})) lines.push(`  map ${name}: ${why}`);
  for (const [name, entries] of Object.entries(s.maps)) {
    lines.push(`  map ${name}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
    for (const e of entries.slice(0, 20)) lines.push(`    ${JSON.stringify(e.key)} → ${JSON.stringify(e.value)}`);
    if (entries.length > 20) lines.push(`    … ${entries.length - 20} more`);
  }
  out.write(`${lines.join('\n')}\n`);
}

export async function runRunCommand(args: string[], out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  let options: RunOptions;
  try {
    options = parseRunArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (!e.message) {
      out.write(`${RUN_USAGE}\n`);
      return 0;
    }
    err.write(`ebpf-studio run: ${e.message}\n\n${RUN_USAGE}\n`);
    return 2;
  }
  const log = (line: string) => err.write(`${line}\n`);
  let isDir = false;
  let fileLoad: Pick<LoadParams, 'globals' | 'attach'> | undefined;
  try {
    const stat = statSync(options.path);
    isDir = stat.isDirectory();
    // A FIFO or device would block the read (and with it SIGTERM) for ever.
    if (!isDir && !stat.isFile()) throw new UsageError(`${options.path} is not a regular file; give a .bpf.c file or a template folder.`);
    if (isDir && !isTemplateDir(options.path)) throw new UsageError(`${options.path} is a folder without a template.json; give a .bpf.c file or a template folder.`);
    if (!isDir) fileLoad = fileLoadOptions(options.params);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err.write(`ebpf-studio run: ${code === 'ENOENT' ? `${options.path} does not exist.` : (e as Error).message}\n`);
    return 2;
  }

  let client: AgentClient;
  try {
    client = await connectCliTarget(options.target, { identity: options.identity, knownHosts: options.knownHosts, log });
  } catch (e) {
    err.write(`ebpf-studio run: ${(e as Error).message}\n`);
    return 2;
  }
  let stopping: (() => void) | undefined;
  const stopped = new Promise<string>((resolve) => {
    stopping = () => resolve('interrupted');
    client.closed.then((reason) => resolve(`the agent on ${client.targetName} ${reason}`));
  });
  const onSignal = () => stopping?.();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let loaded: LoadResult | undefined;
  try {
    const hello = await client.request('hello', {});
    let sourcePath = options.path;
    let load: Pick<LoadParams, 'globals' | 'attach'> | undefined;
    const declaredEvents = new Map<string, string>();
    if (isDir) {
      const run = templateRunOptions(options.path, options.params, hello.arch);
      sourcePath = run.template.sourcePath;
      load = { globals: run.globals, attach: run.attach };
      for (const view of run.template.manifest.views) if (view.kind === 'events') declaredEvents.set(view.map, view.eventStruct);
    }
    const compileOptions = { includePaths: options.includePaths, ...(options.clangPath ? { clangPath: options.clangPath } : {}), log };
    // The anchored compile for event types runs beside the probe's own (both read the precompiled vmlinux.h once built).
    const [object, eventTypes] = await Promise.all([compileForTarget(sourcePath, client, hello, compileOptions), eventTypesForTarget(sourcePath, client, hello, compileOptions)]);
    load ??= fileLoad;
    const objectName = basename(sourcePath).replace(/\.c$/, '.o');
    loaded = await client.request('load', {
      object: object.toString('base64'), objectName, ...load,
      ...(options.programs.length ? { programs: options.programs } : {}),
      ...(Object.keys(options.mapSizes).length ? { mapSizes: options.mapSizes } : {}),
      ...(eventTypes ? { eventTypes } : {}),
    });
    for (const p of loaded.programs) log(programLine(p, client.targetName));
    for (const m of loaded.maps.filter((x) => x.sizing)) log(`map ${m.name}: ${m.sizing}`);
    if (loaded.programs.every((p) => !p.attached)) {
      err.write(`ebpf-studio run: ${nothingAttached(loaded, hello, objectName)}\n`);
      return 1;
    }

    const started = Date.now();
    const streamed = loaded.maps.filter((x) => x.type === 'ringbuf' || x.type === 'perf_event_array');
    let events: EventPrinter | undefined;
    if (streamed.length) {
      const session = loaded.session;
      const decoding = await client.request('objectBtf', { session });
      const btf = eventsBtf(decoding.btf);
      events = new EventPrinter(out, options.format, client.targetName, btf, streamed.map((m) => ({ map: m.name, declared: declaredEvents.get(m.name), sourceNames: decoding.eventStructs?.[m.name] ?? [] })));
      const printer = events;
      client.onEvent((e) => {
        if (e.session === session) printer.take(e.map, e.records, e.dropped, Math.round((Date.now() - started) / 100) / 10);
      });
      for (const m of streamed) await client.request('streamEvents', { session, map: m.name });
    }
    const btfCache: BtfCache = new Map();
    const deadline = options.durationS !== undefined ? started + options.durationS * 1000 : Infinity;
    for (;;) {
      const wait = Math.min(options.intervalS * 1000, deadline - Date.now());
      const reason = await Promise.race([stopped, new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, wait)).unref())]);
      if (client.isClosed) throw new Error(reason ?? `the agent on ${client.targetName} exited`);
      const s = await sample(client, loaded, started, btfCache);
      if (options.format === 'json') out.write(`${JSON.stringify(s)}\n`);
      else printText(out, s);
      events?.flush(s.t);
      if (reason !== undefined || Date.now() >= deadline) {
        if (reason) log(`stopping: ${reason}`);
        break;
      }
    }
    await client.request('detach', { session: loaded.session });
    log(`detached from ${client.targetName}`);
    return 0;
  } catch (e) {
    err.write(`ebpf-studio run: ${(e as Error).message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close();
  }
}
