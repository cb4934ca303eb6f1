// Kernel-test harness for probe templates: compiles a bundled template with the product's toolchain (vmlinux.h
// from this kernel's BTF, cached), loads and attaches it through the local agent, reads its maps and ring buffers.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentEvent, LoadResult, ReadMapResult } from '../../../protocol/agent-rpc';
import type { AgentClient } from '../../../engine/targets/agent-client';
import { connectLocalAgent } from '../../../engine/targets/local-transport';
import { compileProbe, includeDirs } from '../../../engine/toolchain/compile-probe';
import { findClang } from '../../../engine/toolchain/find-clang';
import { provideVmlinuxHeader } from '../../../engine/toolchain/vmlinux-header';
import { bundledTemplatesDir, loadTemplate, type ProbeTemplate } from '../../../engine/templates/template-catalog';
import { resolveParameterValues, templateLoadOptions } from '../../../engine/templates/template-parameters';
import { buildTestAgent, type TestAgentBundle } from '../build-test-agent';
import { loadedProgramIds, programsLeftSince } from '../loaded-programs';
import { waitFor } from '../wait-for';

let agentBundle: Promise<TestAgentBundle> | undefined;

/** The agent built from the current sources once per test process (never a stale dist/), removed at exit. */
function freshAgent(): Promise<TestAgentBundle> {
  if (!agentBundle) {
    agentBundle = buildTestAgent();
    void agentBundle.then((bundle) => process.once('exit', () => bundle.remove()));
  }
  return agentBundle;
}

/** Why template kernel tests cannot run here, or undefined when they can. In CI a missing prerequisite fails. */
export function missingPrerequisite(): string | undefined {
  const missing = (() => {
    if (process.getuid?.() !== 0) return 'needs root (BPF syscall, tracefs, netns)';
    if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs kernel BTF (/sys/kernel/btf/vmlinux)';
    return undefined;
  })();
  if (missing && process.env.CI === 'true') throw new Error(`template kernel tests cannot run: ${missing}`);
  return missing;
}

export { waitFor };

export interface MapEntry {
  key: Buffer;
  value: Buffer;
}

/** One template loaded and attached on this machine through the agent, until stop(). */
export class TemplateSession {
  private readonly records = new Map<string, Buffer[]>();
  private readonly unsubscribe: () => void;

  private constructor(
    readonly template: ProbeTemplate,
    readonly client: AgentClient,
    readonly loaded: LoadResult,
    /** The agent's pid and the programs loaded before it started: what stop() checks it left. */
    private readonly agentPid: number,
    private readonly programsBefore: Set<number>,
  ) {
    this.unsubscribe = client.onEvent((event: AgentEvent) => {
      if (event.session !== loaded.session) return;
      const list = this.records.get(event.map) ?? [];
      list.push(...event.records.map((r) => Buffer.from(r, 'base64')));
      this.records.set(event.map, list);
    });
  }

  /** Compiles the bundled template `name`, then loads and attaches it with `values` (text, as from --param). */
  static start(name: string, values: Record<string, string> = {}): Promise<TemplateSession> {
    return TemplateSession.startFolder(join(bundledTemplatesDir(), name), values);
  }

  /**
   * Compiles the template in `dir` and loads and attaches it; with `sourceGlobalsOnly` no global is sent with the
   * load, so the `const volatile` initializers written in the source are what the kernel sees.
   */
  static async startFolder(dir: string, values: Record<string, string> = {}, options: { sourceGlobalsOnly?: boolean } = {}): Promise<TemplateSession> {
    const template = loadTemplate(dir);
    const name = template.name;
    const programsBefore = loadedProgramIds();
    let agentPid = -1;
    const client = await connectLocalAgent({ agentPath: (await freshAgent()).path, onSpawn: (pid) => (agentPid = pid) });
    try {
      const hello = await client.request('hello', {});
      const clang = await findClang();
      const vmlinux = await provideVmlinuxHeader(includeDirs(template.sourcePath, hello.arch), {
        knownSha256: hello.btfSha256,
        fetchBtf: async () => Buffer.from((await client.request('btf', {})).btf, 'base64'),
      });
      const compiled = await compileProbe({ sourcePath: template.sourcePath, clang, machine: hello.arch, vmlinuxDir: dirname(vmlinux.path) });
      if (!compiled.object) throw new Error(`${name} did not compile:\n${compiled.stderr}`);
      const { sourceGlobalsOnly = false } = options;
      const loadOptions = templateLoadOptions(template.manifest, resolveParameterValues(template.manifest, values), hello.arch);
      const loaded = await client.request('load', { object: compiled.object.toString('base64'), objectName: `${name}.bpf.o`, globals: sourceGlobalsOnly ? {} : loadOptions.globals, attach: loadOptions.attach });
      const unattached = loaded.programs.filter((p) => !p.attached);
      const session = new TemplateSession(template, client, loaded, agentPid, programsBefore);
      if (unattached.length > 0) {
        await session.stop();
        throw new Error(`${name}: not attached: ${unattached.map((p) => `${p.name} (${p.section}): ${p.attachError ?? 'no reason given'}`).join('; ')}`);
      }
      return session;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** Every entry of one of the session's maps, keys and values as raw bytes. */
  async mapEntries(map: string): Promise<MapEntry[]> {
    const entries: MapEntry[] = [];
    let cursor: string | undefined;
    do {
      const chunk: ReadMapResult = await this.client.request('readMap', { session: this.loaded.session, map, ...(cursor ? { cursor } : {}) });
      const keys = Buffer.from(chunk.keys, 'base64');
      const values = Buffer.from(chunk.values, 'base64');
      const valueStride = chunk.map.perCpu ? chunk.possibleCpus * Math.ceil(chunk.map.valueSize / 8) * 8 : chunk.map.valueSize;
      for (let i = 0; i < chunk.count; i++) {
        entries.push({ key: keys.subarray(i * chunk.map.keySize, (i + 1) * chunk.map.keySize), value: values.subarray(i * valueStride, (i + 1) * valueStride) });
      }
      cursor = chunk.cursor;
    } while (cursor);
    return entries;
  }

  /** Starts streaming a ring buffer of the session; its records collect in records(map). */
  async streamEvents(map: string): Promise<void> {
    await this.client.request('streamEvents', { session: this.loaded.session, map });
  }

  recordsOf(map: string): Buffer[] {
    return this.records.get(map) ?? [];
  }

  /** Detaches the session and ends the agent (the kernel unloads everything with it). */
  async stop(): Promise<void> {
    this.unsubscribe();
    try {
      if (!this.client.isClosed) await this.client.request('detach', { session: this.loaded.session });
    } finally {
      await this.client.close();
    }
    assert.deepEqual(programsLeftSince(this.programsBefore, this.agentPid), [], `${this.template.name}: the agent left programs loaded`);
  }
}

/** Sum of a histogram value's u32 slots (the first `slots` × 4 bytes). */
export function histogramTotal(value: Buffer, slots = 27): number {
  let total = 0;
  for (let i = 0; i < slots; i++) total += value.readUInt32LE(i * 4);
  return total;
}

/** A NUL-terminated C string field. */
export function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}
