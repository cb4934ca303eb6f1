// Creates a probe from a template in a target folder: the .bpf.c with each parameter's `const volatile`
// initializer set to the chosen value, and a template.json whose defaults are those values. Never overwrites.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MANIFEST_FILE, type ProbeTemplate } from './template-catalog';
import type { ParameterValue, TemplateManifest } from './template-manifest';
import { globalValue, localMachine, resolveParameterValues, type ParameterValues } from './template-parameters';

export interface InstantiateOptions {
  /** The folder to create the probe in; created when missing. */
  targetDir: string;
  /** Parameter values (typed or as text); the template's defaults fill the rest. */
  values?: Record<string, string | ParameterValue>;
  /** Architecture whose syscall numbers go into the source (uname -m); this machine's by default. */
  machine?: string;
}

export interface InstantiatedProbe {
  dir: string;
  sourcePath: string;
  manifestPath: string;
  values: ParameterValues;
}

/** A probe that cannot be created where asked (files already there); nothing was written. */
export class InstantiateError extends Error {}

/** Replaces the initializer of `const volatile … NAME = …;` keeping the rest of the line (its comment). */
export function setConstGlobalInitializer(sourceText: string, global: string, literal: string): string {
  const declaration = new RegExp(`^(\\s*const\\s+volatile\\s+[\\w\\s]+?\\b${global}\\s*=\\s*)([^;]+)(;)`, 'm');
  if (!declaration.test(sourceText)) throw new InstantiateError(`The template source declares no \`const volatile\` global "${global}".`);
  return sourceText.replace(declaration, (_all, head: string, _old: string, semicolon: string) => `${head}${literal}${semicolon}`);
}

export function instantiateTemplate(template: ProbeTemplate, options: InstantiateOptions): InstantiatedProbe {
  const dir = resolve(options.targetDir);
  const machine = options.machine ?? localMachine();
  const values = resolveParameterValues(template.manifest, options.values);
  const sourcePath = join(dir, basename(template.sourcePath));
  const manifestPath = join(dir, MANIFEST_FILE);
  const existing = [sourcePath, manifestPath].filter((p) => existsSync(p));
  if (existing.length > 0) throw new InstantiateError(`Not creating the probe in ${dir}: ${existing.map((p) => basename(p)).join(' and ')} already exist there. Choose an empty folder.`);

  let source = readFileSync(template.sourcePath, 'utf8');
  for (const parameter of template.manifest.parameters) {
    if (parameter.global === undefined) continue;
    source = setConstGlobalInitializer(source, parameter.global, String(globalValue(parameter, values[parameter.name], machine)));
  }
  const manifest: TemplateManifest = {
    ...template.manifest,
    parameters: template.manifest.parameters.map((p) => ({ ...p, default: values[p.name] })),
  };

  mkdirSync(dir, { recursive: true });
  writeFileSync(sourcePath, source, { flag: 'wx' });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  return { dir, sourcePath, manifestPath, values };
}
