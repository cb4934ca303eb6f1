// Writes the settings table and the commands table, generated from package.json's contributes, into
// README.md between <!-- settings:start -->/<!-- settings:end --> and <!-- commands:start -->/<!-- commands:end -->.
// `--check` changes nothing and exits 1 when the README's tables differ from package.json. `--readme`/`--package` pick other files.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

/** Makes text safe inside one markdown table cell. */
function cell(text) {
  return String(text).replace(/\r?\n+/g, ' ').replace(/\|/g, '\\|').trim();
}

function typeOf(schema) {
  if (schema.type === 'array' && schema.items?.type) return `${schema.items.type}[]`;
  return Array.isArray(schema.type) ? schema.type.join(' \\| ') : schema.type ?? 'any';
}

export function settingsTable(pkg) {
  const properties = pkg.contributes?.configuration?.properties ?? {};
  const rows = Object.entries(properties).map(([key, schema]) => {
    const description = schema.markdownDescription ?? schema.description ?? '';
    return `| \`${key}\` | ${cell(typeOf(schema))} | \`${cell(JSON.stringify(schema.default))}\` | ${cell(description)} |`;
  });
  return ['| Setting | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function commandsTable(pkg) {
  const rows = (pkg.contributes?.commands ?? []).map((c) => {
    const title = c.category ? `${c.category}: ${c.title}` : c.title;
    return `| ${cell(title)} | \`${c.command}\` |`;
  });
  return ['| Command | ID |', '| --- | --- |', ...rows].join('\n');
}

/** Replaces what lies between each pair of markers; throws naming the markers that are missing. */
export function updateReadme(readme, pkg) {
  const tables = { settings: settingsTable(pkg), commands: commandsTable(pkg) };
  let text = readme;
  const missing = [];
  for (const [name, table] of Object.entries(tables)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end, from + start.length);
    if (from < 0 || to < 0) {
      missing.push(`${start} … ${end}`);
      continue;
    }
    text = `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
  }
  if (missing.length > 0) throw new Error(`README has no markers for the generated tables: add ${missing.join(' and ')} where each table belongs.`);
  return text;
}

function main() {
  const readmePath = option('--readme', `${root}README.md`);
  const packagePath = option('--package', `${root}package.json`);
  let readme;
  try {
    readme = readFileSync(readmePath, 'utf8');
  } catch (error) {
    console.error(`gen-docs-tables: cannot read ${readmePath}: ${error.message}`);
    process.exit(1);
  }
  const pkg = JSON.parse(readFileSync(packagePath, 'utf8'));
  let updated;
  try {
    updated = updateReadme(readme, pkg);
  } catch (error) {
    console.error(`gen-docs-tables: ${readmePath}: ${error.message}`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error(`gen-docs-tables: the tables in ${readmePath} are out of date with ${packagePath}; run \`node scripts/gen-docs-tables.mjs\`.`);
      process.exit(1);
    }
    console.log(`${readmePath}: settings and commands tables are current`);
    return;
  }
  if (updated !== readme) writeFileSync(readmePath, updated);
  console.log(`${readmePath}: settings and commands tables ${updated === readme ? 'already current' : 'written'}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
