// What `ebpf-studio run TEMPLATE_DIR --param NAME=VALUE…` (and the editor's attach of a template folder) needs:
// the template, its parameter values and the agent's load options for the target's architecture.
import { loadTemplate, type ProbeTemplate } from './template-catalog';
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
