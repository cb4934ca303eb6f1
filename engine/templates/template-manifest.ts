// The template.json schema of a probe template (title, parameters and what each sets, which maps to show and
// how) and its validation, which lists every problem with its JSON path. Pure data: no file system, no kernel.
import type { AttachOptions } from '../../protocol/agent-rpc';

export const PARAMETER_TYPES = ['integer', 'boolean', 'string', 'syscall', 'unit', 'device', 'interface', 'path', 'symbol'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export const HISTOGRAM_UNITS = ['ns', 'us', 'ms'] as const;
export type HistogramUnit = (typeof HISTOGRAM_UNITS)[number];

/** The attach options a parameter may set: the string and number fields of the agent's AttachOptions. */
export const ATTACH_PARAMETER_OPTIONS = ['ifname', 'xdpMode', 'cgroupPath', 'binaryPath', 'symbol', 'pid'] as const;
export type AttachParameterOption = (typeof ATTACH_PARAMETER_OPTIONS)[number];

export type ParameterValue = number | string | boolean;

export interface TemplateParameter {
  /** What `--param NAME=VALUE` and the editor's input call it. */
  name: string;
  description: string;
  type: ParameterType;
  default: ParameterValue;
  min?: number;
  max?: number;
  /** The probe's `const volatile` global this parameter sets before load … */
  global?: string;
  /** … or the attach option it sets for the listed programs. */
  attach?: { option: AttachParameterOption; programs: string[] };
}

export interface HistogramView {
  kind: 'histogram';
  map: string;
  title?: string;
  /** A fixed unit, or the template's `unit` parameter that chooses it. */
  unit: HistogramUnit | { parameter: string };
  scale: 'log2' | 'linear';
  /** The value field holding the slot counts (an array of integers). */
  slotsField: string;
  /** A value field naming each histogram when the map holds several (e.g. comm). */
  labelField?: string;
}
export interface TableView {
  kind: 'table';
  map: string;
  title?: string;
}
export interface EventsView {
  kind: 'events';
  /** A ring buffer or perf event array map. */
  map: string;
  title?: string;
  /** The C struct (in the object's BTF) each record is. */
  eventStruct: string;
}
export type TemplateView = HistogramView | TableView | EventsView;

export interface TemplateManifest {
  title: string;
  description: string;
  /** The oldest kernel it loads on, "major.minor": what the static rules find it needs (program types, helpers, maps). */
  minKernel: string;
  parameters: TemplateParameter[];
  views: TemplateView[];
  /** Fixed attach options per program, e.g. the tc direction. */
  attach?: Record<string, AttachOptions>;
}

/** A template.json that does not match the schema; `problems` holds each one as "path: what is wrong". */
export class TemplateManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid template: ${problems.join('; ')}`);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: Json): string => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);

class ProblemList {
  readonly items: string[] = [];
  add(path: string, message: string): void {
    this.items.push(`${path}: ${message}`);
  }
  requireString(obj: Record<string, Json>, key: string, path: string, options: { optional?: boolean; oneLine?: boolean } = {}): string | undefined {
    const value = obj[key];
    if (value === undefined && options.optional) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      this.add(`${path}.${key}`, value === undefined ? 'is required (a non-empty string)' : `must be a non-empty string, not ${describe(value)}`);
      return undefined;
    }
    if (options.oneLine && value.includes('\n')) this.add(`${path}.${key}`, 'must be one line');
    return value;
  }
  rejectUnknownKeys(obj: Record<string, Json>, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(`${path}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
    }
  }
}

function checkDefault(parameter: Record<string, Json>, type: ParameterType, path: string, problems: ProblemList): void {
  const value = parameter.default;
  if (value === undefined) {
    problems.add(`${path}.default`, 'is required');
    return;
  }
  switch (type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) problems.add(`${path}.default`, `must be an integer for type integer, not ${describe(value)}`);
      else {
        if (typeof parameter.min === 'number' && value < parameter.min) problems.add(`${path}.default`, `${value} is below min ${parameter.min}`);
        if (typeof parameter.max === 'number' && value > parameter.max) problems.add(`${path}.default`, `${value} is above max ${parameter.max}`);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.add(`${path}.default`, `must be true or false for type boolean, not ${describe(value)}`);
      return;
    case 'syscall':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) problems.add(`${path}.default`, `must be a syscall name or number, not ${describe(value)}`);
      return;
    case 'unit':
      if (!HISTOGRAM_UNITS.includes(value as HistogramUnit)) problems.add(`${path}.default`, `must be one of ${HISTOGRAM_UNITS.join(', ')}, not ${describe(value)}`);
      return;
    case 'device':
      if (typeof value !== 'string' || (value !== '' && !/^\d+:\d+$/.test(value))) problems.add(`${path}.default`, `must be "major:minor" or "" for every device, not ${describe(value)}`);
      return;
    default:
      if (typeof value !== 'string') problems.add(`${path}.default`, `must be a string for type ${type}, not ${describe(value)}`);
  }
}

function checkParameter(raw: Json, path: string, problems: ProblemList): void {
  if (!isObject(raw)) {
    problems.add(path, `must be an object, not ${describe(raw)}`);
    return;
  }
  problems.rejectUnknownKeys(raw, ['name', 'description', 'type', 'default', 'min', 'max', 'global', 'attach'], path);
  const name = problems.requireString(raw, 'name', path);
  if (name !== undefined && !IDENTIFIER.test(name)) problems.add(`${path}.name`, `"${name}" must be an identifier (letters, digits, _)`);
  problems.requireString(raw, 'description', path, { oneLine: true });
  const type = raw.type;
  if (!PARAMETER_TYPES.includes(type as ParameterType)) {
    problems.add(`${path}.type`, `must be one of ${PARAMETER_TYPES.join(', ')}, not ${describe(type)}`);
  } else {
    checkDefault(raw, type as ParameterType, path, problems);
  }
  for (const bound of ['min', 'max'] as const) {
    if (raw[bound] !== undefined && (typeof raw[bound] !== 'number' || type !== 'integer')) problems.add(`${path}.${bound}`, 'is only for integer parameters, and must be a number');
  }
  const hasGlobal = raw.global !== undefined;
  const hasAttach = raw.attach !== undefined;
  if (hasGlobal === hasAttach) {
    problems.add(path, 'must set exactly one of "global" (a const volatile global of the probe) or "attach" (an attach option)');
    return;
  }
  if (hasGlobal) {
    const global = problems.requireString(raw, 'global', path);
    if (global !== undefined && !IDENTIFIER.test(global)) problems.add(`${path}.global`, `"${global}" is not a C identifier`);
    if (type === 'string' || type === 'interface' || type === 'path' || type === 'symbol') problems.add(`${path}.type`, `a ${String(type)} parameter cannot set a const volatile global (only numbers and booleans can); use "attach"`);
    return;
  }
  const attach = raw.attach;
  if (!isObject(attach)) {
    problems.add(`${path}.attach`, `must be an object {"option", "programs"}, not ${describe(attach)}`);
    return;
  }
  problems.rejectUnknownKeys(attach, ['option', 'programs'], `${path}.attach`);
  if (!ATTACH_PARAMETER_OPTIONS.includes(attach.option as AttachParameterOption)) problems.add(`${path}.attach.option`, `must be one of ${ATTACH_PARAMETER_OPTIONS.join(', ')}, not ${describe(attach.option)}`);
  if (attach.option === 'pid' && type !== 'integer') problems.add(`${path}.type`, 'the pid attach option needs an integer parameter');
  if (!Array.isArray(attach.programs) || attach.programs.length === 0 || !attach.programs.every((p) => typeof p === 'string' && IDENTIFIER.test(p))) {
    problems.add(`${path}.attach.programs`, 'must be a non-empty array of program (function) names');
  }
}

function checkView(raw: Json, path: string, parameters: Json[], problems: ProblemList): void {
  if (!isObject(raw)) {
    problems.add(path, `must be an object, not ${describe(raw)}`);
    return;
  }
  problems.requireString(raw, 'map', path);
  problems.requireString(raw, 'title', path, { optional: true, oneLine: true });
  switch (raw.kind) {
    case 'histogram': {
      problems.rejectUnknownKeys(raw, ['kind', 'map', 'title', 'unit', 'scale', 'slotsField', 'labelField'], path);
      if (raw.scale !== 'log2' && raw.scale !== 'linear') problems.add(`${path}.scale`, `must be "log2" or "linear", not ${describe(raw.scale)}`);
      problems.requireString(raw, 'slotsField', path);
      problems.requireString(raw, 'labelField', path, { optional: true });
      const unit = raw.unit;
      if (isObject(unit)) {
        const parameter = parameters.find((p) => isObject(p) && p.name === unit.parameter);
        if (!parameter) problems.add(`${path}.unit.parameter`, `names no parameter of this template: ${describe(unit.parameter)}`);
        else if (isObject(parameter) && parameter.type !== 'unit') problems.add(`${path}.unit.parameter`, `"${String(unit.parameter)}" must be a parameter of type unit`);
      } else if (!HISTOGRAM_UNITS.includes(unit as HistogramUnit)) {
        problems.add(`${path}.unit`, `must be one of ${HISTOGRAM_UNITS.join(', ')} or {"parameter": NAME}, not ${describe(unit)}`);
      }
      return;
    }
    case 'table':
      problems.rejectUnknownKeys(raw, ['kind', 'map', 'title'], path);
      return;
    case 'events':
      problems.rejectUnknownKeys(raw, ['kind', 'map', 'title', 'eventStruct'], path);
      problems.requireString(raw, 'eventStruct', path);
      return;
    default:
      problems.add(`${path}.kind`, `must be "histogram", "table" or "events", not ${describe(raw.kind)}`);
  }
}

function checkFixedAttach(raw: Json, problems: ProblemList): void {
  if (raw === undefined) return;
  if (!isObject(raw)) {
    problems.add('attach', `must be an object of program name → attach options, not ${describe(raw)}`);
    return;
  }
  for (const [program, options] of Object.entries(raw)) {
    if (!IDENTIFIER.test(program)) problems.add(`attach.${program}`, 'must be a program (function) name');
    if (!isObject(options)) {
      problems.add(`attach.${program}`, `must be an object of attach options, not ${describe(options)}`);
      continue;
    }
    problems.rejectUnknownKeys(options, [...ATTACH_PARAMETER_OPTIONS, 'direction', 'usdtProvider', 'usdtName', 'frequencyHz'], `attach.${program}`);
    if (options.direction !== undefined && options.direction !== 'ingress' && options.direction !== 'egress') problems.add(`attach.${program}.direction`, `must be "ingress" or "egress", not ${describe(options.direction)}`);
  }
}

/** Checks a parsed template.json against the schema; returns it typed or throws TemplateManifestError with every problem. */
export function validateManifest(raw: Json, file = 'template.json'): TemplateManifest {
  const problems = new ProblemList();
  if (!isObject(raw)) throw new TemplateManifestError(file, [`the file must hold a JSON object, not ${describe(raw)}`]);
  problems.rejectUnknownKeys(raw, ['title', 'description', 'minKernel', 'parameters', 'views', 'attach'], '$');
  problems.requireString(raw, 'title', '$', { oneLine: true });
  problems.requireString(raw, 'description', '$', { oneLine: true });
  const minKernel = problems.requireString(raw, 'minKernel', '$');
  if (minKernel !== undefined && !/^\d+\.\d+$/.test(minKernel)) problems.add('$.minKernel', `must be a kernel version "major.minor" such as "5.8", not ${describe(minKernel)}`);

  const parameters = raw.parameters;
  if (!Array.isArray(parameters)) problems.add('$.parameters', `must be an array (may be empty), not ${parameters === undefined ? 'missing' : describe(parameters)}`);
  else {
    parameters.forEach((p, i) => checkParameter(p, `$.parameters[${i}]`, problems));
    const names = parameters.filter(isObject).map((p) => p.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) problems.add(`$.parameters[${i}].name`, `"${String(name)}" is declared twice`);
    });
  }

  const views = raw.views;
  if (!Array.isArray(views) || views.length === 0) problems.add('$.views', 'must be a non-empty array: say which maps to show and how');
  else views.forEach((v, i) => checkView(v, `$.views[${i}]`, Array.isArray(parameters) ? parameters : [], problems));

  checkFixedAttach(raw.attach, problems);

  if (problems.items.length > 0) throw new TemplateManifestError(file, problems.items);
  return raw as unknown as TemplateManifest;
}
