// The agent load request for attaching a probe file on one target: compiled against that target's kernel, the
// template.json defaults of its folder applied, all or only the chosen programs, and how to decode its buffers' records. Talks to the toolchain and agent.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LoadParams } from '../../../protocol/agent-rpc';
import type { AgentClient } from '../../../engine/targets/agent-client';
import { compileForTarget, eventTypesForTarget } from '../../../engine/targets/target-compile';
import { templateRunOptions } from '../../../engine/templates/template-run-options';

export interface ProbeLoadOptions {
  includePaths?: string[];
  clangPath?: string;
  /** Program names to load and attach; all programs of the file when absent. */
  programs?: string[];
  log?: (line: string) => void;
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
  const object = await compileForTarget(sourcePath, client, hello, compileOptions);
  const eventTypes = await eventTypesForTarget(sourcePath, client, hello, compileOptions);
  const folder = dirname(sourcePath);
  const template = existsSync(join(folder, 'template.json')) ? templateRunOptions(folder, [], hello.arch) : undefined;
  if (template) log(`template ${template.template.name}: default parameters ${JSON.stringify(template.values)}`);
  const programs = options.programs;
  log(`load ${basename(sourcePath)} (${programs ? `only ${programs.join(', ')}` : 'all programs'}) on ${targetName}`);
  return {
    object: object.toString('base64'),
    objectName: basename(sourcePath).replace(/\.c$/, '.o'),
    ...(programs ? { programs } : {}),
    ...(template ? { globals: template.globals, attach: template.attach } : {}),
    ...(eventTypes ? { eventTypes } : {}),
  };
}
