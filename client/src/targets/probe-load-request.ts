// The agent load request for attaching a probe file on one target: compiled against that target's kernel, the
// template.json defaults of its folder applied, then the user's globals, map sizes and attach options; how to decode its buffers' records. Talks to the toolchain and agent.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AttachOptions, LoadParams, MapSize } from '../../../protocol/agent-rpc';
import type { AgentClient } from '../../../engine/targets/agent-client';
import { compileForTarget, eventTypesForTarget } from '../../../engine/targets/target-compile';
import { templateRunOptions } from '../../../engine/templates/template-run-options';

export interface ProbeLoadOptions {
  includePaths?: string[];
  clangPath?: string;
  /** Program names to load and attach; all programs of the file when absent. */
  programs?: string[];
  /** `const volatile` globals set before load, over the template's (as `run --param NAME=VALUE`). */
  globals?: Record<string, string | boolean>;
  /** Map sizes set before load (as `run --map-size`). */
  mapSizes?: Record<string, MapSize>;
  /** Attach options for every program (interface, xdpMode), over the template's. */
  attach?: AttachOptions;
  log?: (line: string) => void;
}

/** The template's attach options with `shared` laid over every entry ('*' and each program's own). */
function withSharedAttach(template: Record<string, AttachOptions> | undefined, shared: AttachOptions | undefined): Record<string, AttachOptions> | undefined {
  if (!shared || Object.keys(shared).length === 0) return template;
  const entries = Object.entries({ '*': {}, ...template }).map(([program, options]) => [program, { ...options, ...shared }]);
  return Object.fromEntries(entries) as Record<string, AttachOptions>;
}

/** Builds the load request for `sourcePath` on the target `targetName` reached through `client`. */
export async function probeLoadRequest(sourcePath: string, client: AgentClient, targetName: string, options: ProbeLoadOptions = {}): Promise<LoadParams> {
  const log = options.log ?? (() => undefined);
  const hello = await client.request('hello', {});
  const compileOptions = {
    ...(options.includePaths ? { includePaths: options.includePaths } : {}),
    ...(options.clangPath ? { clangPath: options.clangPath } : {}),
    log,
  };
  // The anchored compile for event types runs beside the probe's own (both read the precompiled vmlinux.h).
  const [object, eventTypes] = await Promise.all([compileForTarget(sourcePath, client, hello, compileOptions), eventTypesForTarget(sourcePath, client, hello, compileOptions)]);
  const folder = dirname(sourcePath);
  const template = existsSync(join(folder, 'template.json')) ? templateRunOptions(folder, [], hello.arch) : undefined;
  if (template) log(`template ${template.template.name}: default parameters ${JSON.stringify(template.values)}`);
  const programs = options.programs;
  const globals = { ...template?.globals, ...options.globals };
  const attach = withSharedAttach(template?.attach, options.attach);
  log(`load ${basename(sourcePath)} (${programs ? `only ${programs.join(', ')}` : 'all programs'}) on ${targetName}`);
  if (options.globals && Object.keys(options.globals).length) log(`globals set before load: ${JSON.stringify(options.globals)}`);
  if (options.mapSizes && Object.keys(options.mapSizes).length) log(`map sizes set before load: ${JSON.stringify(options.mapSizes)}`);
  if (options.attach && Object.keys(options.attach).length) log(`attach options: ${JSON.stringify(options.attach)}`);
  return {
    object: object.toString('base64'),
    objectName: basename(sourcePath).replace(/\.c$/, '.o'),
    ...(programs ? { programs } : {}),
    ...(Object.keys(globals).length ? { globals } : {}),
    ...(attach ? { attach } : {}),
    ...(options.mapSizes && Object.keys(options.mapSizes).length ? { mapSizes: options.mapSizes } : {}),
    ...(eventTypes ? { eventTypes } : {}),
  };
}
