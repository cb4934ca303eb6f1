// The `streamEvents`/`stopEvents` methods: polls a session's ring or perf buffer without blocking into a bounded queue and
// sends `records` events with a cumulative drop count (queue full, slow client, perf overrun). Talks to libbpf.
import type { StreamEventsParams } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import type { AgentContext } from './rpc-server';
import { getSession } from './sessions';
import { libbpf, type SampleCallback } from './ffi/libbpf';
import { libc } from './ffi/libc';

const POLL_MS = 20;
const FLUSH_MS = 100;
const MAX_BATCH = 1000;
/** Stop sending while this much output waits to be written (slow client or link): records then queue, then drop. */
const STDOUT_HIGH_WATER = 4 * 1024 * 1024;
const PERF_PAGES = 64;

interface BufferReader {
  consume(): void;
  free(): void;
}

function ringBufferReader(mapFd: number, onSample: SampleCallback): BufferReader | undefined {
  const bpf = libbpf();
  const rb = bpf.ringBufferNew(mapFd, onSample);
  return rb ? { consume: () => void bpf.ringBufferConsume(rb), free: () => bpf.ringBufferFree(rb) } : undefined;
}

function perfBufferReader(mapFd: number, onSample: SampleCallback, onLost: (count: number) => void): BufferReader | undefined {
  const bpf = libbpf();
  const pb = bpf.perfBufferNew(mapFd, PERF_PAGES, onSample, onLost);
  return pb ? { consume: () => void bpf.perfBufferConsume(pb), free: () => bpf.perfBufferFree(pb) } : undefined;
}

export function streamEvents(params: StreamEventsParams, context: AgentContext): { map: string; kind: 'ringbuf' | 'perfbuf' } {
  const session = getSession(params?.session);
  const map = session.maps.find((m) => m.name === params.map);
  if (!map) throw new AgentError(`Session ${session.id} has no map "${params.map}"; it has ${session.maps.map((m) => m.name).join(', ')}.`, 'ENOENT');
  const kind = map.type === 'ringbuf' ? 'ringbuf' : map.type === 'perf_event_array' ? 'perfbuf' : undefined;
  if (!kind) throw new AgentError(`Map "${map.name}" is a ${map.type} map; only ringbuf and perf_event_array maps stream events.`, 'EINVAL');
  if (session.streams.has(map.name)) return { map: map.name, kind };
  const maxQueue = Math.max(1, Math.min(params.maxQueue ?? 4096, 1_000_000));
  const queue: string[] = [];
  let dropped = 0;
  let sentDropped = 0;
  const push = (data: Buffer) => {
    if (queue.length >= maxQueue) dropped++;
    else queue.push(data.toString('base64'));
  };
  const reader = kind === 'ringbuf' ? ringBufferReader(map.fd, push) : perfBufferReader(map.fd, push, (count) => (dropped += count));
  if (!reader) throw new AgentError(`Cannot open ${kind} "${map.name}" for reading (errno ${libc().errno()}).`, 'ESTREAM');
  const consume = reader.consume;
  const poll = setInterval(consume, POLL_MS);
  const flush = setInterval(() => {
    if (process.stdout.writableLength > STDOUT_HIGH_WATER) return;
    if (queue.length === 0 && dropped === sentDropped) return;
    const records = queue.splice(0, MAX_BATCH);
    sentDropped = dropped;
    context.emit({ event: 'records', session: session.id, map: map.name, records, dropped });
  }, FLUSH_MS);
  session.streams.set(map.name, {
    map: map.name,
    stop() {
      clearInterval(poll);
      clearInterval(flush);
      reader.free();
    },
  });
  return { map: map.name, kind };
}

export function stopEvents(params: { session: string; map: string }): Record<string, never> {
  const session = getSession(params?.session);
  const stream = session.streams.get(params.map);
  if (!stream) throw new AgentError(`Map "${params.map}" of session ${session.id} is not being streamed.`, 'ENOENT');
  stream.stop();
  session.streams.delete(params.map);
  return {};
}
