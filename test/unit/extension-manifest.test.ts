// Checks package.json as a VS Code manifest: every command, view, setting and language the team relies on
// is declared; menus, walkthrough and welcome links name declared commands; referenced files exist; features are wired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

interface Command {
  command: string;
  title: string;
  category?: string;
  icon?: string;
  enablement?: string;
}
interface Manifest {
  main: string;
  icon: string;
  engines: { vscode: string };
  activationEvents: string[];
  capabilities?: { untrustedWorkspaces?: { supported: boolean | 'limited'; description?: string; restrictedConfigurations?: string[] } };
  contributes: {
    commands: Command[];
    menus: Record<string, { command: string; when?: string }[]>;
    languages: { id: string; extensions: string[]; filenamePatterns?: string[]; configuration: string }[];
    grammars: { language?: string; scopeName: string; path: string; injectTo?: string[] }[];
    snippets: { language: string; path: string }[];
    viewsContainers: { activitybar: { id: string; title: string; icon: string }[] };
    views: Record<string, { id: string; name: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    configuration: { properties: Record<string, { type: string; default: unknown; description?: string; markdownDescription?: string }> };
    walkthroughs: { id: string; steps: { id: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }[] }[];
  };
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const declared = new Set(manifest.contributes.commands.map((c) => c.command));

const TEAM_COMMANDS = [
  'verifyWithKernel', 'showVerifierLog', 'attachProbe', 'attachToHosts', 'detach', 'detachAll', 'selectTarget', 'addSshTarget',
  'openMapView', 'openHistogram', 'openProgramStats', 'openEvents', 'newProbeFromTemplate', 'selectTargetKernel', 'showTargetOutput', 'exportSnapshot',
].map((name) => `ebpfStudio.${name}`);

const TEAM_SETTINGS: Record<string, { type: string; default: unknown }> = {
  'ebpfStudio.targetKernel': { type: 'string', default: '' },
  'ebpfStudio.includePaths': { type: 'array', default: [] },
  'ebpfStudio.clangPath': { type: 'string', default: '' },
  'ebpfStudio.verifyOnSave': { type: 'boolean', default: true },
  'ebpfStudio.targets': { type: 'array', default: [] },
  'ebpfStudio.currentTarget': { type: 'string', default: 'local' },
  'ebpfStudio.refreshIntervalMs': { type: 'number', default: 1000 },
};

function commandLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
}

test('every command the team uses is declared with a title, the eBPF category and an icon', () => {
  for (const id of TEAM_COMMANDS) assert.ok(declared.has(id), `${id} is not declared`);
  for (const c of manifest.contributes.commands) {
    assert.ok(c.title.length > 0, `${c.command} has no title`);
    assert.equal(c.category, 'eBPF', `${c.command} category`);
    assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/, `${c.command} icon`);
  }
  assert.equal(declared.size, manifest.contributes.commands.length, 'a command is declared twice');
});

test('menus, the welcome view and the walkthrough only name declared commands', () => {
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(declared.has(item.command), `menu ${menu} names undeclared ${item.command}`);
  }
  for (const welcome of manifest.contributes.viewsWelcome) {
    for (const id of commandLinks(welcome.contents)) assert.ok(declared.has(id), `welcome of ${welcome.view} links undeclared ${id}`);
  }
  for (const walkthrough of manifest.contributes.walkthroughs) {
    for (const step of walkthrough.steps) {
      for (const id of commandLinks(step.description)) assert.ok(declared.has(id), `walkthrough step ${step.id} links undeclared ${id}`);
      for (const event of step.completionEvents ?? []) assert.ok(declared.has(event.replace(/^onCommand:/, '')), `step ${step.id} completes on ${event}`);
    }
  }
  const titleMenu = manifest.contributes.menus['editor/title'].map((i) => i.command);
  assert.ok(titleMenu.includes('ebpfStudio.verifyWithKernel') && titleMenu.includes('ebpfStudio.attachProbe'));
  assert.ok(manifest.contributes.menus['view/item/context'].some((i) => i.when?.includes('view == ebpfStudio.targets')));
});

test('the targets view lives in an eBPF activity-bar container and has a welcome view', () => {
  const container = manifest.contributes.viewsContainers.activitybar.find((c) => c.title === 'eBPF');
  assert.ok(container, 'no eBPF activity-bar container');
  assert.ok(manifest.contributes.views[container.id]?.some((v) => v.id === 'ebpfStudio.targets'), 'ebpfStudio.targets not in the eBPF container');
  assert.ok(manifest.contributes.viewsWelcome.some((w) => w.view === 'ebpfStudio.targets'));
});

test('settings have the agreed names, types, defaults and a description', () => {
  const properties = manifest.contributes.configuration.properties;
  for (const [key, expected] of Object.entries(TEAM_SETTINGS)) {
    const schema = properties[key];
    assert.ok(schema, `${key} is not declared`);
    assert.equal(schema.type, expected.type, `${key} type`);
    assert.deepEqual(schema.default, expected.default, `${key} default`);
  }
  for (const [key, schema] of Object.entries(properties)) assert.ok((schema.markdownDescription ?? schema.description ?? '').length > 20, `${key} needs a description`);
});

test('the bpf-c language covers *.bpf.c and *.bpf.h and every referenced file exists', () => {
  const language = manifest.contributes.languages.find((l) => l.id === 'bpf-c');
  assert.ok(language);
  assert.deepEqual(language.extensions, ['.bpf.c', '.bpf.h']);
  const files = [
    manifest.icon,
    language.configuration,
    ...manifest.contributes.grammars.map((g) => g.path),
    ...manifest.contributes.snippets.map((s) => s.path),
    ...manifest.contributes.viewsContainers.activitybar.map((c) => c.icon),
    ...manifest.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown ?? s.media.image ?? '')),
  ];
  for (const file of files) assert.ok(existsSync(join(root, file)), `${file} is referenced but missing`);
  for (const file of files.filter((f) => f.endsWith('.json'))) assert.doesNotThrow(() => JSON.parse(readFileSync(join(root, file), 'utf8')), file);
  assert.equal(manifest.main, './dist/client.js');
  assert.equal(manifest.engines.vscode, '^1.91.0');
});

test('activation is lazy: what VS Code does not generate itself (workspaceContains, panel restore), never on startup', () => {
  const events = manifest.activationEvents;
  assert.ok(!events.includes('*') && !events.includes('onStartupFinished'));
  assert.ok(events.includes('workspaceContains:**/*.bpf.c'));
  // VS Code (>= 1.74) activates on contributed commands, views and configured languages by itself.
  assert.deepEqual(events.filter((e) => /^on(Command|View|Language):/.test(e)), []);
  for (const view of ['mapView', 'histogramView', 'programView', 'eventsView']) assert.ok(events.includes(`onWebviewPanel:ebpfStudio.${view}`), view);
});

test('Restricted Mode: limited support, the settings that choose binaries, paths and hosts are restricted', () => {
  const untrusted = manifest.capabilities?.untrustedWorkspaces;
  assert.equal(untrusted?.supported, 'limited');
  assert.ok(untrusted?.description);
  const settings = Object.keys(manifest.contributes.configuration.properties);
  for (const restricted of ['ebpfStudio.clangPath', 'ebpfStudio.clangdPath', 'ebpfStudio.includePaths', 'ebpfStudio.targets', 'ebpfStudio.currentTarget', 'ebpfStudio.verifyKernels']) {
    assert.ok(untrusted?.restrictedConfigurations?.includes(restricted), restricted);
    assert.ok(settings.includes(restricted), `${restricted} is a contributed setting`);
  }
  const verifyOnSave = readFileSync(join(root, 'client', 'src', 'features', 'verify-on-save.ts'), 'utf8');
  assert.match(verifyOnSave, /onDidSaveTextDocument[\s\S]*vscode\.workspace\.isTrusted/, 'verify on save waits for a trusted folder');
});

// Whether every declared command is registered is asserted inside a real VS Code (vscode.commands.getCommands) by
// test/editor/extension-api/checks.ts, not by searching client/src for the id.

test('every feature in features/ is activated from extension.ts and follows the feature shape', () => {
  const extension = readFileSync(join(root, 'client', 'src', 'extension.ts'), 'utf8');
  const featureDir = join(root, 'client', 'src', 'features');
  const files = readdirSync(featureDir).filter((f) => f.endsWith('.ts'));
  const texts = new Map(files.map((f) => [f, readFileSync(join(featureDir, f), 'utf8')]));
  for (const [file, text] of texts) {
    const name = file.replace(/\.ts$/, '');
    assert.match(text, /^\/\/ .+\n\/\/ .+\n/, `features/${file} must start with a two-line header comment`);
    if (/export (async )?function activate\(/.test(text)) {
      assert.match(text, /export (async )?function activate\(studio: Studio\)/, `features/${file} must export activate(studio: Studio)`);
      assert.ok(extension.includes(`'./features/${name}'`), `features/${file} is a feature but extension.ts does not activate it`);
    } else {
      // A support module may sit beside the one feature that uses it, but must not be dead code.
      const users = [...texts].filter(([other, otherText]) => other !== file && otherText.includes(`'./${name}'`));
      assert.ok(users.length > 0, `features/${file} has no activate(studio) and no feature imports it`);
    }
  }
});
