// Finds and reads probe templates: a folder holding <name>.bpf.c and template.json, validated against the
// schema and against the source. Reads the file system only (the bundled bpf-templates/ or any folder).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { TemplateManifestError, validateManifest, type TemplateManifest } from './template-manifest';
import { checkManifestAgainstSource } from './template-source-check';

export const MANIFEST_FILE = 'template.json';

export interface ProbeTemplate {
  /** The folder's name, e.g. "syscall-latency". */
  name: string;
  dir: string;
  /** The probe source, <dir>/<name>.bpf.c (or the folder's only *.bpf.c). */
  sourcePath: string;
  manifest: TemplateManifest;
}

export interface TemplateListing {
  templates: ProbeTemplate[];
  /** Folders that look like templates but could not be read, each with the reason. */
  broken: { dir: string; message: string }[];
}

/** The templates shipped with the product: next to the bundle (dist/../bpf-templates) or in the repository. */
export function bundledTemplatesDir(): string {
  const candidates = [join(__dirname, '..', 'bpf-templates'), join(__dirname, '..', '..', 'bpf-templates')];
  const found = candidates.find((dir) => existsSync(dir) && statSync(dir).isDirectory());
  if (!found) throw new Error(`The probe templates are missing (looked in ${candidates.join(' and ')}).`);
  return found;
}

export function isTemplateDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE));
}

function findSource(dir: string): string {
  const named = join(dir, `${basename(dir)}.bpf.c`);
  if (existsSync(named)) return named;
  const sources = readdirSync(dir).filter((f) => f.endsWith('.bpf.c'));
  if (sources.length === 1) return join(dir, sources[0]);
  throw new TemplateManifestError(join(dir, MANIFEST_FILE), [
    sources.length === 0 ? `the folder holds no .bpf.c file (expected ${basename(named)})` : `the folder holds several .bpf.c files (${sources.join(', ')}) and none is named ${basename(named)}`,
  ]);
}

/** Reads and validates one template folder; throws TemplateManifestError listing every problem. */
export function loadTemplate(dirPath: string): ProbeTemplate {
  const dir = resolve(dirPath);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new TemplateManifestError(manifestPath, [`${dir} is not a template folder: it has no ${MANIFEST_FILE}`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new TemplateManifestError(manifestPath, [`not valid JSON (${(err as Error).message})`]);
  }
  const manifest = validateManifest(raw, manifestPath);
  const sourcePath = findSource(dir);
  const problems = checkManifestAgainstSource(manifest, readFileSync(sourcePath, 'utf8'), basename(sourcePath));
  if (problems.length > 0) throw new TemplateManifestError(manifestPath, problems);
  return { name: basename(dir), dir, sourcePath, manifest };
}

/** Every template folder directly under `root`, sorted by title; unreadable ones are reported, not thrown. */
export function listTemplates(root: string = bundledTemplatesDir()): TemplateListing {
  const listing: TemplateListing = { templates: [], broken: [] };
  for (const entry of readdirSync(root).sort()) {
    const dir = join(root, entry);
    if (!statSync(dir).isDirectory() || !isTemplateDir(dir)) continue;
    try {
      listing.templates.push(loadTemplate(dir));
    } catch (err) {
      listing.broken.push({ dir, message: (err as Error).message });
    }
  }
  listing.templates.sort((a, b) => a.manifest.title.localeCompare(b.manifest.title));
  return listing;
}
