// A template's parameter values: parsed from text (`--param NAME=VALUE`, an input box) with clear errors,
// completed with defaults, and turned into the agent's load options (const volatile globals, attach options).
import type { AttachOptions } from '../../protocol/agent-rpc';
import type { HistogramUnit, HistogramView, ParameterValue, TemplateManifest, TemplateParameter } from './template-manifest';
import syscallNumbers from './syscall-numbers.json';

export type ParameterValues = Record<string, ParameterValue>;

/** A parameter value that cannot be used; the message says which parameter and what it accepts. */
export class TemplateParameterError extends Error {}

const UNIT_DIVISORS: Record<HistogramUnit, number> = { ns: 1, us: 1_000, ms: 1_000_000 };
const MINOR_BITS = 20;

/** The syscall tables we carry, by the agent's `hello.arch` (uname -m). */
const SYSCALL_TABLES: Record<string, Record<string, number>> = {
  x86_64: syscallNumbers.x86_64,
  aarch64: syscallNumbers.aarch64,
  arm64: syscallNumbers.aarch64,
};

/** This machine's architecture in uname -m terms, the default when no target was asked. */
export function localMachine(): string {
  return process.arch === 'arm64' ? 'aarch64' : process.arch === 'x64' ? 'x86_64' : process.arch;
}

/** Syscall name or number → number on `machine`; throws with the nearest names when unknown. */
export function syscallNumber(nameOrNumber: string | number, machine: string): number {
  if (typeof nameOrNumber === 'number') return nameOrNumber;
  if (/^\d+$/.test(nameOrNumber)) return Number(nameOrNumber);
  const table = SYSCALL_TABLES[machine];
  if (!table) throw new TemplateParameterError(`Syscall names are known for x86_64 and aarch64, not ${machine}; give the syscall's number instead of "${nameOrNumber}".`);
  const name = nameOrNumber.replace(/^sys_/, '');
  const number = table[name];
  if (number === undefined) {
    const similar = Object.keys(table).filter((n) => n.includes(name) || name.includes(n)).slice(0, 5);
    throw new TemplateParameterError(`"${nameOrNumber}" is not a ${machine} syscall${similar.length > 0 ? ` (did you mean ${similar.join(', ')}?)` : ''}.`);
  }
  return number;
}

/** "major:minor" → the kernel's dev_t (MKDEV), 0 for "" (every device). */
export function deviceNumber(text: string): number {
  if (text === '') return 0;
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) throw new TemplateParameterError(`"${text}" is not a device; write it as major:minor, e.g. 8:0 (see lsblk).`);
  return Number(match[1]) * 2 ** MINOR_BITS + Number(match[2]);
}

/** Parses one value given as text for `parameter`, checking its type and range. */
export function parseParameterText(parameter: TemplateParameter, text: string): ParameterValue {
  const value = text.trim();
  const bad = (accepts: string) => new TemplateParameterError(`Parameter "${parameter.name}" takes ${accepts}, not "${text}".`);
  switch (parameter.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(value)) throw bad('an integer');
      const number = Number(value);
      if (parameter.min !== undefined && number < parameter.min) throw bad(`an integer ≥ ${parameter.min}`);
      if (parameter.max !== undefined && number > parameter.max) throw bad(`an integer ≤ ${parameter.max}`);
      return number;
    }
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(value)) return true;
      if (/^(false|no|off|0)$/i.test(value)) return false;
      throw bad('true or false');
    case 'unit':
      if (value in UNIT_DIVISORS) return value;
      throw bad('ns, us or ms');
    case 'syscall':
      if (!/^(\d+|[a-z_][a-z0-9_]*)$/.test(value)) throw bad('a syscall name (e.g. openat) or number');
      return /^\d+$/.test(value) ? Number(value) : value;
    case 'device':
      deviceNumber(value);
      return value;
    case 'interface':
      if (!/^[^\s/]{1,15}$/.test(value)) throw bad('an interface name (1–15 characters, no spaces or /)');
      return value;
    default:
      if (value === '' && parameter.default !== '') throw bad('a non-empty value');
      return value;
  }
}

/** The template's defaults overridden by `given` (text or typed values); unknown names are an error. */
export function resolveParameterValues(manifest: TemplateManifest, given: Record<string, string | ParameterValue> = {}): ParameterValues {
  const known = new Map(manifest.parameters.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      const list = manifest.parameters.map((p) => p.name).join(', ');
      throw new TemplateParameterError(`"${manifest.title}" has no parameter "${name}"; ${list ? `its parameters are ${list}` : 'it takes no parameters'}.`);
    }
  }
  const values: ParameterValues = {};
  for (const parameter of manifest.parameters) {
    const value = given[parameter.name];
    values[parameter.name] = value === undefined ? parameter.default : parseParameterText(parameter, String(value));
  }
  return values;
}

/** The number or boolean a global-mapped parameter's value becomes in the probe's .rodata. */
export function globalValue(parameter: TemplateParameter, value: ParameterValue, machine: string): number | boolean {
  switch (parameter.type) {
    case 'syscall':
      return syscallNumber(value as string | number, machine);
    case 'unit':
      return UNIT_DIVISORS[value as HistogramUnit];
    case 'device':
      return deviceNumber(String(value));
    case 'boolean':
      return Boolean(value);
    default:
      return Number(value);
  }
}

export interface TemplateLoadOptions {
  /** For LoadParams.globals: const volatile global name → value. */
  globals: Record<string, number | boolean>;
  /** For LoadParams.attach: program name → attach options. */
  attach: Record<string, AttachOptions>;
}

/** Maps parameter values to the agent's load options for a target of architecture `machine` (hello.arch). */
export function templateLoadOptions(manifest: TemplateManifest, values: ParameterValues, machine: string = localMachine()): TemplateLoadOptions {
  const options: TemplateLoadOptions = { globals: {}, attach: {} };
  for (const [program, fixed] of Object.entries(manifest.attach ?? {})) options.attach[program] = { ...fixed };
  for (const parameter of manifest.parameters) {
    const value = values[parameter.name] ?? parameter.default;
    if (parameter.global !== undefined) {
      options.globals[parameter.global] = globalValue(parameter, value, machine);
    } else if (parameter.attach && !(parameter.attach.option === 'xdpMode' && value === '')) {
      // An empty xdpMode leaves the choice to the agent: native, then generic when the driver refuses.
      for (const program of parameter.attach.programs) {
        const programOptions = (options.attach[program] ??= {}) as Record<string, unknown>;
        programOptions[parameter.attach.option] = parameter.attach.option === 'pid' ? Number(value) : String(value);
      }
    }
  }
  return options;
}

/** The unit a histogram view shows its slots in, given the parameter values. */
export function histogramUnit(view: HistogramView, values: ParameterValues): HistogramUnit {
  return typeof view.unit === 'string' ? view.unit : (values[view.unit.parameter] as HistogramUnit);
}
