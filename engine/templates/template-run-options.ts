// What `ebpf-studio run TEMPLATE_DIR --param NAME=VALUE…` (and the editor's attach of a template folder) needs:
// the template, its parameter values and the agent's load options for the target's architecture.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bundledTemplatesDir, isTemplateDir, loadTemplate, MANIFEST_FILE, type ProbeTemplate } from './template-catalog';
import { resolveParameterValues, templateLoadOptions, TemplateParameterError, type ParameterValues, type TemplateLoadOptions } from './template-parameters';

export interface TemplateRunOptions extends TemplateLoadOptions {
  template: ProbeTemplate;
  /** Every parameter's value (given or default), by parameter name. */
  values: ParameterValues;
}

/** ["pid=42", "unit=ms"] → { pid: "42", unit: "ms" }; a missing "=" or a repeated name is an error. */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const given: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new TemplateParameterError(`--param takes NAME=VALUE, not "${assignment}".`);
    const name = assignment.slice(0, equals).trim();
    if (name in given) throw new TemplateParameterError(`--param ${name} is given twice.`);
    given[name] = assignment.slice(equals + 1);
  }
  return given;
}

/** Reads the template in `dir` and maps the `--param` assignments to load options for a target of `machine` (hello.arch). */
export function templateRunOptions(dir: string, assignments: readonly string[], machine: string): TemplateRunOptions {
  const template = loadTemplate(dir);
  const values = resolveParameterValues(template.manifest, parseParamAssignments(assignments));
  return { template, values, ...templateLoadOptions(template.manifest, values, machine) };
}

/** A template folder from a CLI argument: a folder holding template.json, or the name of a bundled template. */
export function resolveTemplateDir(nameOrDir: string): string {
  const asPath = resolve(nameOrDir);
  if (existsSync(asPath) && statSync(asPath).isDirectory()) {
    if (!isTemplateDir(asPath)) throw new TemplateParameterError(`${asPath} is not a template folder: it has no ${MANIFEST_FILE}.`);
    return asPath;
  }
  const bundled = join(bundledTemplatesDir(), nameOrDir);
  if (/^[\w-]+$/.test(nameOrDir) && isTemplateDir(bundled)) return bundled;
  throw new TemplateParameterError(`"${nameOrDir}" is neither a template folder nor the name of a bundled template.`);
}

/**
 * For a probe file created from a template (template.json next to it), the run options with the values saved
 * there; undefined for a plain probe. Attach uses this so a template's interface or binary is not forgotten.
 */
export function templateRunOptionsForProbe(sourcePath: string, machine: string): TemplateRunOptions | undefined {
  const dir = dirname(resolve(sourcePath));
  if (!isTemplateDir(dir)) return undefined;
  const options = templateRunOptions(dir, [], machine);
  return resolve(options.template.sourcePath) === resolve(sourcePath) ? options : undefined;
}
