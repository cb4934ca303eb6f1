// "eBPF: New Probe from Template": pick a bundled template, fill in its parameters (defaults offered, checked as
// typed), choose a folder in the workspace, create the probe there and open it. Talks to engine/templates.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import * as vscode from 'vscode';
import { instantiateTemplate } from '../../../engine/templates/instantiate-template';
import { listTemplates, MANIFEST_FILE, type ProbeTemplate } from '../../../engine/templates/template-catalog';
import type { ParameterValue, TemplateParameter } from '../../../engine/templates/template-manifest';
import { parseParameterText } from '../../../engine/templates/template-parameters';
import type { Studio } from '../studio';

const CHOICES: Partial<Record<TemplateParameter['type'], string[]>> = {
  boolean: ['false', 'true'],
  unit: ['ns', 'us', 'ms'],
};

async function pickTemplate(studio: Studio, templatesDir: string, requested: unknown): Promise<ProbeTemplate | undefined> {
  const { templates, broken } = listTemplates(templatesDir);
  for (const { message } of broken) studio.log.warn(`template skipped: ${message}`);
  if (typeof requested === 'string') {
    const found = templates.find((t) => t.name === requested);
    if (!found) throw new Error(`There is no template "${requested}" (templates: ${templates.map((t) => t.name).join(', ')}).`);
    return found;
  }
  const pick = await vscode.window.showQuickPick(
    templates.map((template) => ({ label: template.manifest.title, description: template.name, detail: template.manifest.description, template })),
    { title: 'New Probe from Template', placeHolder: 'Choose what the probe should measure', matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.template;
}

/** Asks for one parameter; undefined when the user cancelled. */
async function askParameter(template: ProbeTemplate, parameter: TemplateParameter, step: number, steps: number): Promise<ParameterValue | undefined> {
  const title = `${template.manifest.title} (${step}/${steps}): ${parameter.name}`;
  const choices = CHOICES[parameter.type];
  if (choices) {
    const current = String(parameter.default);
    const pick = await vscode.window.showQuickPick(
      choices.map((c) => ({ label: c, description: c === current ? 'default' : undefined })).sort((a, b) => Number(b.label === current) - Number(a.label === current)),
      { title, placeHolder: parameter.description },
    );
    return pick ? parseParameterText(parameter, pick.label) : undefined;
  }
  const text = await vscode.window.showInputBox({
    title,
    prompt: parameter.description,
    value: String(parameter.default),
    validateInput: (value) => {
      if (parameter.type === 'device' && value.trim() === '') return undefined;
      try {
        parseParameterText(parameter, value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  if (text === undefined) return undefined;
  return parameter.type === 'device' && text.trim() === '' ? '' : parseParameterText(parameter, text);
}

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  if (!folder) throw new Error('Open a folder first: the new probe is created inside the workspace.');
  return folder.uri.fsPath;
}

function freeFolderName(root: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!existsSync(join(root, name))) return name;
  }
}

async function askTargetDir(root: string, template: ProbeTemplate): Promise<string | undefined> {
  const sourceName = basename(template.sourcePath);
  const answer = await vscode.window.showInputBox({
    title: `${template.manifest.title}: folder for the probe`,
    prompt: `A folder in the workspace (relative to ${root}); it will hold ${sourceName} and ${MANIFEST_FILE}.`,
    value: freeFolderName(root, template.name),
    validateInput: (value) => {
      if (value.trim() === '') return 'Give a folder name.';
      const dir = resolve(root, value.trim());
      const inside = relative(root, dir);
      if (inside.startsWith('..') || isAbsolute(inside)) return 'The folder must be inside the workspace.';
      const taken = [sourceName, MANIFEST_FILE].filter((f) => existsSync(join(dir, f)));
      return taken.length > 0 ? `${taken.join(' and ')} already exist there.` : undefined;
    },
  });
  return answer === undefined ? undefined : resolve(root, answer.trim());
}

async function newProbeFromTemplate(studio: Studio, requested: unknown): Promise<vscode.Uri | undefined> {
  const root = workspaceRoot();
  const template = await pickTemplate(studio, studio.context.asAbsolutePath('bpf-templates'), requested);
  if (!template) return undefined;
  const values: Record<string, ParameterValue> = {};
  const parameters = template.manifest.parameters;
  for (const [i, parameter] of parameters.entries()) {
    const value = await askParameter(template, parameter, i + 1, parameters.length);
    if (value === undefined) return undefined;
    values[parameter.name] = value;
  }
  const targetDir = await askTargetDir(root, template);
  if (!targetDir) return undefined;
  const probe = instantiateTemplate(template, { targetDir, values });
  studio.log.info(`created ${probe.sourcePath} from template ${template.name} (${Object.entries(probe.values).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`);
  const uri = vscode.Uri.file(probe.sourcePath);
  await vscode.window.showTextDocument(uri);
  return uri;
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(
    vscode.commands.registerCommand('ebpfStudio.newProbeFromTemplate', async (requested: unknown) => {
      try {
        return await newProbeFromTemplate(studio, requested);
      } catch (err) {
        void vscode.window.showErrorMessage(`eBPF Studio: ${(err as Error).message}`);
        return undefined;
      }
    }),
  );
}
