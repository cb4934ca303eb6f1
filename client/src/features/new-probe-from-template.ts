// "eBPF: New Probe from Template": pick a bundled template, fill in its parameters (defaults offered, checked as
// typed), choose a folder in the workspace, create the probe there and open it. Talks to engine/templates.
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import * as vscode from 'vscode';
import { instantiateTemplate } from '../../../engine/templates/instantiate-template';
import { listTemplates, MANIFEST_FILE, type ProbeTemplate } from '../../../engine/templates/template-catalog';
import type { ParameterValue, TemplateParameter } from '../../../engine/templates/template-manifest';
import { parseParameterText, resolveParameterValues } from '../../../engine/templates/template-parameters';
import { LOCAL_TARGET, type Studio } from '../studio';

/** The command's optional argument: a template name, or what to fill in without asking (walkthrough links, tests). */
interface NewProbeRequest {
  template?: string;
  values?: Record<string, string>;
  /** Folder relative to the workspace root. */
  folder?: string;
}

function requestOf(argument: unknown): NewProbeRequest {
  if (typeof argument === 'string') return { template: argument };
  if (typeof argument !== 'object' || argument === null) return {};
  const { template, values, folder } = argument as Record<string, unknown>;
  return {
    template: typeof template === 'string' ? template : undefined,
    values: typeof values === 'object' && values !== null ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])) : undefined,
    folder: typeof folder === 'string' ? folder : undefined,
  };
}

const CHOICES: Partial<Record<TemplateParameter['type'], string[]>> = {
  boolean: ['false', 'true'],
  unit: ['ns', 'us', 'ms'],
};

async function pickTemplate(studio: Studio, templatesDir: string, requested: string | undefined): Promise<ProbeTemplate | undefined> {
  const { templates, broken } = listTemplates(templatesDir);
  for (const { message } of broken) studio.log.warn(`template skipped: ${message}`);
  if (requested !== undefined) {
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

const OTHER_INTERFACE = 'Another interface…';

/** For an interface parameter on the local target: one of this machine's interfaces (default first), OTHER_INTERFACE, or undefined when cancelled. */
async function pickLocalInterface(parameter: TemplateParameter, title: string): Promise<string | undefined> {
  const names = Object.keys(networkInterfaces()).sort((a, b) => Number(b === parameter.default) - Number(a === parameter.default));
  const pick = await vscode.window.showQuickPick([...names.map((n) => ({ label: n })), { label: OTHER_INTERFACE }], { title, placeHolder: parameter.description });
  return pick?.label;
}

/** Asks for one parameter; undefined when the user cancelled. */
async function askParameter(studio: Studio, template: ProbeTemplate, parameter: TemplateParameter, step: number, steps: number): Promise<ParameterValue | undefined> {
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
  let initial = String(parameter.default);
  if (parameter.type === 'interface' && studio.currentTarget() === LOCAL_TARGET) {
    const picked = await pickLocalInterface(parameter, title);
    if (picked === undefined) return undefined;
    if (picked !== OTHER_INTERFACE) return parseParameterText(parameter, picked);
    initial = '';
  }
  const text = await vscode.window.showInputBox({
    title,
    prompt: parameter.description,
    value: initial,
    validateInput: (value) => {
      try {
        parseParameterText(parameter, value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  return text === undefined ? undefined : parseParameterText(parameter, text);
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

/** Why `folder` (relative to the workspace root) cannot hold the new probe, or undefined when it can. */
function folderProblem(root: string, template: ProbeTemplate, folder: string): string | undefined {
  if (folder.trim() === '') return 'Give a folder name.';
  const dir = resolve(root, folder.trim());
  const inside = relative(root, dir);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'The folder must be inside the workspace.';
  const taken = [basename(template.sourcePath), MANIFEST_FILE].filter((f) => existsSync(join(dir, f)));
  return taken.length > 0 ? `${taken.join(' and ')} already exist there.` : undefined;
}

async function askTargetDir(root: string, template: ProbeTemplate, requested: string | undefined): Promise<string | undefined> {
  if (requested !== undefined) {
    const problem = folderProblem(root, template, requested);
    if (problem) throw new Error(`Cannot create the probe in "${requested}": ${problem}`);
    return resolve(root, requested.trim());
  }
  const answer = await vscode.window.showInputBox({
    title: `${template.manifest.title}: folder for the probe`,
    prompt: `A folder in the workspace (relative to ${root}); it will hold ${basename(template.sourcePath)} and ${MANIFEST_FILE}.`,
    value: freeFolderName(root, template.name),
    validateInput: (value) => folderProblem(root, template, value),
  });
  return answer === undefined ? undefined : resolve(root, answer.trim());
}

async function newProbeFromTemplate(studio: Studio, argument: unknown): Promise<vscode.Uri | undefined> {
  const request = requestOf(argument);
  const root = workspaceRoot();
  const template = await pickTemplate(studio, studio.context.asAbsolutePath('bpf-templates'), request.template);
  if (!template) return undefined;
  const given = resolveParameterValues(template.manifest, request.values);
  const values: Record<string, ParameterValue> = {};
  const parameters = template.manifest.parameters;
  for (const [i, parameter] of parameters.entries()) {
    const value = request.values?.[parameter.name] !== undefined ? given[parameter.name] : await askParameter(studio, template, parameter, i + 1, parameters.length);
    if (value === undefined) return undefined;
    values[parameter.name] = value;
  }
  const targetDir = await askTargetDir(root, template, request.folder);
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
