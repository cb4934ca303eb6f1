// The layer rules of eslint.config.mjs fail the lint when broken: a file placed in each part that imports what its
// part may not import gets a no-restricted-imports error, and the imports the part may use pass. Runs ESLint's API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const repoRoot = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: repoRoot });

/** The no-restricted-imports messages ESLint gives `code` as if it were the file at `path` (relative to the root). */
async function restrictedImports(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: Array<{ file: string; forbidden: string[]; allowed: string[] }> = [
  {
    file: 'engine/verify/layer-probe.ts',
    forbidden: ["'../../server/src/analysis/probe-file'", "'../../client/src/studio'", "'../../cli/src/cli'", "'../../agent/src/verify'", "'vscode'"],
    allowed: ["'../../protocol/agent-rpc'", "'../targets/agent-client'", "'./verifier-diagnostics'"],
  },
  {
    file: 'agent/src/layer-probe.ts',
    forbidden: ["'../../engine/targets/agent-client'", "'../../server/src/server'", "'vscode'"],
    allowed: ["'../../protocol/agent-rpc'", "'./libbpf'"],
  },
  {
    file: 'server/src/features/layer-probe.ts',
    forbidden: ["'../../../engine/verify/verify-probe'", "'../../../client/src/studio'", "'vscode'"],
    allowed: ["'../../../protocol/lsp-requests'", "'../analysis/probe-file'"],
  },
  {
    file: 'cli/src/layer-probe.ts',
    forbidden: ["'../../client/src/studio'", "'../../webviews/map/main'", "'vscode'"],
    allowed: ["'../../engine/verify/verify-probe'", "'../../server/src/analysis/probe-document'", "'../../protocol/agent-rpc'"],
  },
  {
    file: 'client/src/features/layer-probe.ts',
    forbidden: ["'../../../server/src/analysis/probe-file'", "'../../../agent/src/verify'", "'../../../cli/src/cli'"],
    allowed: ["'vscode'", "'../../../engine/targets/target-sessions'", "'../../../protocol/lsp-requests'"],
  },
  {
    file: 'webviews/map/layer-probe.ts',
    forbidden: [
      "'../histogram/main'",
      "'../../engine/targets/agent-client'",
      "'../../engine/live-data/map-snapshot'",
      "'../../client/src/studio'",
      "'../../server/src/server'",
      "'vscode'",
    ],
    allowed: ["'../../protocol/webview-messages'", "'../shared/dom-builder'", "'./main'", "'../../engine/btf/value-decoder'", "'../../engine/live-data/map-table-model'"],
  },
  {
    file: 'protocol/layer-probe.ts',
    forbidden: ["'../engine/targets/agent-client'", "'vscode'"],
    allowed: ["'./agent-rpc'", "'vscode-languageserver-protocol'"],
  },
];

for (const { file, forbidden, allowed } of cases) {
  test(`layer rules: ${file.split('/')[0]}/ may not import ${forbidden.join(', ')}`, async () => {
    for (const source of forbidden) {
      const messages = await restrictedImports(file, `import { x } from ${source};\nexport const y = x;\n`);
      assert.equal(messages.length, 1, `${file} importing ${source} must fail the lint, got ${JSON.stringify(messages)}`);
    }
  });
  test(`layer rules: ${file.split('/')[0]}/ may import ${allowed.join(', ')}`, async () => {
    for (const source of allowed) {
      assert.deepEqual(await restrictedImports(file, `import { x } from ${source};\nexport const y = x;\n`), [], `${file} importing ${source}`);
    }
  });
}

test('layer rules: the editor tests may drive vscode, other tests may not', async () => {
  assert.deepEqual(await restrictedImports('test/editor/layer-probe.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"), []);
  assert.equal((await restrictedImports('test/unit/layer-probe.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n")).length, 1);
});
