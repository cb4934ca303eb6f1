// `ebpf-studio maps dump (--pinned PATH | --id N) [--target T] [--format json|text]`: prints a map's entries
// decoded through its BTF (hex without BTF), streamed chunk by chunk. Talks to the agent on the target.
import { writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Writable } from 'node:stream';
import type { AgentClient } from '../../engine/targets/agent-client';
import { agentChunkSource, forEachMapChunk, type MapChunkSource, type MapSelector, type MapTyping } from '../../engine/live-data/map-snapshot';
import { compileDumpLoop, JsonSink, type DumpLoop } from '../../engine/btf/json-writer';
import { parseCommandLine, TARGET_OPTIONS, TARGET_USAGE, targetConnectOptions, UsageError } from './command-line';

export const MAPS_USAGE = `Usage: ebpf-studio maps dump (--pinned PATH | --id N) [--target T] [--identity KEY] [--known-hosts FILE] [--format json|text]

Prints every entry of a BPF map as [{"key": ..., "value": ...}], keys and values decoded through the
map's BTF (numbers, strings for char arrays, objects for structs, an array per CPU for per-CPU maps;
64-bit values beyond 2^53 as decimal strings). Without BTF, keys and values are hex strings.

  --pinned PATH         the map pinned at PATH (bpffs)
  --id N                the map with id N
${TARGET_USAGE}
  --format json|text    output format (default json)`;

export interface MapsDumpOptions {
  selector: MapSelector;
  target: string;
  format: 'json' | 'text';
  identity?: string;
  knownHosts?: string;
}

export function parseMapsArgs(args: string[]): MapsDumpOptions {
  const [sub, ...rest] = args;
  if (sub !== 'dump') throw new UsageError(sub ? `Unknown maps subcommand "${sub}".` : 'Missing maps subcommand.');
  const { values, positionals } = parseCommandLine(rest, { pinned: { type: 'string' }, id: { type: 'string' }, ...TARGET_OPTIONS, format: { type: 'string', default: 'json' } });
  if (positionals.length) throw new UsageError(`maps dump takes no FILE, got ${positionals.join(', ')}.`);
  const { pinned, id, format } = values;
  if (id !== undefined && (!/^\d+$/.test(id) || Number(id) <= 0 || Number(id) > 0xffffffff)) throw new UsageError(`--id needs a map id from 1 to 4294967295, not "${id}".`);
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format is json or text, not "${format}".`);
  if ((pinned === undefined) === (id === undefined)) throw new UsageError('Give exactly one of --pinned PATH or --id N.');
  return { selector: pinned !== undefined ? { pinned } : { id: Number(id) }, target: values.target, format, ...targetConnectOptions(values) };
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

async function writeBytes(out: Writable, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

/**
 * The first read asks for this many entries only: the dump loop warms up on them while the kernel reads the
 * rest (on the thread pool when read in this process) and the JIT compiles the loop on another thread.
 */
const FIRST_CHUNK_ENTRIES = 1024;

/** Output is flushed in blocks of about this size, from one buffer reused for the whole dump. */
const FLUSH_BYTES = 1 << 20;

/**
 * Writes what the sink holds and empties it. Our own stdout gets a synchronous write of the reused buffer
 * (a file or a pipe; a pipe that is full falls back to the stream); any other stream gets a copy.
 */
async function flush(sink: JsonSink, out: Writable): Promise<void> {
  if (sink.pos === 0) return;
  if (out === process.stdout) {
    let written = 0;
    try {
      while (written < sink.pos) written += writeSync(1, sink.buf, written, sink.pos - written);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await writeBytes(out, sink.buf.slice(written, sink.pos));
    }
    sink.pos = 0;
    return;
  }
  await writeBytes(out, sink.take());
}

/**
 * Short runs of the loop into scratch space: V8 records type feedback only from a function's ~8th call, so
 * without them the JIT compiles the long run with no feedback for the loop's exit and deoptimises at
 * every exit (once per flushed megabyte). The calls cover both separators and the exit.
 */
function warmUp(loop: DumpLoop, kdv: DataView, vdv: DataView, entries: number, maxEntryBytes: number): void {
  const scratch = new Uint8Array(entries * maxEntryBytes + 2);
  for (let call = 0; call < 10; call++) loop(kdv, vdv, 0, entries, scratch, 0, scratch.length, { p: 0, first: true });
  optimizeOnNextCall(loop);
  loop(kdv, vdv, 0, entries, scratch, 0, scratch.length, { p: 0, first: true });
}

let optimizeHint: ((loop: DumpLoop) => void) | undefined;

/**
 * Asks V8 to optimise the loop at its next call, with the feedback the short runs gathered, rather than run the
 * first megabytes in the interpreter until the optimising compiler catches up (5-30% less CPU for a 100,000-entry
 * dump, measured with perf stat on this machine). A V8 without the hint leaves the loop to its usual tiering.
 */
function optimizeOnNextCall(loop: DumpLoop): void {
  if (!optimizeHint) {
    try {
      setFlagsFromString('--allow-natives-syntax');
      optimizeHint = new Function('loop', '%OptimizeFunctionOnNextCall(loop);') as (loop: DumpLoop) => void;
    } catch {
      optimizeHint = () => undefined;
    }
  }
  optimizeHint(loop);
}

/** Streams the map to `out`; the JSON form is one entry per line inside one array. */
export async function dumpMap(source: MapChunkSource, options: MapsDumpOptions, out: Writable): Promise<number> {
  const json = options.format === 'json';
  const sink = new JsonSink(FLUSH_BYTES * 2);
  let first = true;
  // '[' only once the first chunk was read: a map that cannot be read leaves stdout empty, not half a document.
  let opened = false;
  const open = async () => {
    if (json && !opened) await write(out, '[');
    opened = true;
  };
  const state = { p: 0, first: true };
  let reads = 0;
  const smallFirstRead: MapChunkSource = (params) => source(reads++ === 0 && params.maxEntries === undefined ? { ...params, maxEntries: FIRST_CHUNK_ENTRIES } : params);
  // One loop for every chunk of the map (the typing is the same), so the JIT warms up once.
  let compiled: { typing: MapTyping; loop: DumpLoop; maxEntryBytes: number } | undefined;
  const { info, total } = await forEachMapChunk(smallFirstRead, options.selector, async (chunk, typing) => {
    await open();
    if (chunk.count === 0) return;
    const kdv = new DataView(chunk.keys.buffer, chunk.keys.byteOffset, chunk.keys.byteLength);
    const vdv = new DataView(chunk.values.buffer, chunk.values.byteOffset, chunk.values.byteLength);
    if (compiled?.typing !== typing) {
      compiled = { typing, ...compileDumpLoop(typing.layout, typing.btf, options.format) };
      warmUp(compiled.loop, kdv, vdv, Math.min(2, chunk.count), compiled.maxEntryBytes);
    }
    const { loop, maxEntryBytes } = compiled;
    sink.reserve(FLUSH_BYTES + maxEntryBytes - sink.pos);
    for (let next = 0; next < chunk.count;) {
      next = loop(kdv, vdv, next, chunk.count, sink.buf, sink.pos, FLUSH_BYTES, state);
      sink.pos = state.p;
      if (sink.pos >= FLUSH_BYTES) await flush(sink, out);
    }
    first = state.first;
    await flush(sink, out);
  });
  await open();
  if (json) await write(out, first ? ']\n' : '\n]\n');
  else await write(out, `${first ? '' : '\n'}map ${info.id} "${info.name}" (${info.type}): ${total} entries\n`);
  return total;
}

/** Whether this process read the map itself (and so loaded koffi). */
let readInProcess = false;

/**
 * As root on this machine the map is read in this process with the agent's own reader (no agent to start);
 * otherwise through the target's agent (sudo locally, SSH remotely; ssh2 and the agent transports,
 * child_process with them, are loaded only then).
 */
async function openSource(options: MapsDumpOptions, err: Writable): Promise<{ source: MapChunkSource; close(): Promise<void> }> {
  if (options.target === 'local' && process.getuid?.() === 0) {
    readInProcess = true;
    return { source: (await import('./overlapped-map-read.js')).overlappedChunkSource(), close: async () => undefined };
  }
  const client: AgentClient = options.target === 'local'
    ? await (await import('../../engine/targets/local-transport.js')).connectLocalAgent({ sudoPassword: (await import('./terminal-question.js')).terminalSudoPassword })
    : await (await import('./target-connect.js')).connectCliTarget(options.target, {
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.knownHosts ? { knownHosts: options.knownHosts } : {}),
      log: (line) => err.write(`${line}\n`),
    });
  return { source: agentChunkSource(client), close: () => client.close() };
}

/** Entry from cli.ts: returns the exit code. */
export async function runMapsCommand(args: string[], out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    (args.length === 0 ? err : out).write(`${MAPS_USAGE}\n`);
    return args.length === 0 ? 2 : 0;
  }
  let options: MapsDumpOptions;
  try {
    options = parseMapsArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`${e.message}\n\n${MAPS_USAGE}\n`);
    return 2;
  }
  let opened: { source: MapChunkSource; close(): Promise<void> } | undefined;
  try {
    opened = await openSource(options, err);
    await dumpMap(opened.source, options, out);
    return 0;
  } catch (e) {
    err.write(`ebpf-studio maps dump: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await opened?.close();
  }
}

/**
 * Entry from cli.ts: the command, then, when the map was read in this process, the process ends through
 * _exit(). koffi's static destructors fsync stdout at exit, which for a dump into a file waits for the disk
 * (~10 ms for 20 MB). Nothing is lost: stdout and stderr are synchronous for files and pipes on Linux, and
 * the exit happens only when neither has anything queued.
 */
export async function runMapsCli(args: string[]): Promise<number> {
  const code = await runMapsCommand(args);
  if (readInProcess && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) {
    (await import('../../agent/src/immediate-exit.js')).exitImmediately(code);
  }
  return code;
}
