// Typed checks of values parsed from JSON (types, integer ranges, string lengths, list sizes, allowed keys);
// protocol/agent-schema.ts builds the agent protocol's one schema from them. Pure code, no I/O.

declare const checked: unique symbol;
/**
 * Checks that a value is a T; returns the first problem found ("params.attach.x.pid: …") or undefined. The phantom
 * member makes Schema<number> and Schema<string> distinct types.
 */
export interface Schema<T> {
  (value: unknown, path: string): string | undefined;
  readonly [checked]?: (value: T) => T;
}

/** A field that may be absent (or undefined); only for object shapes. */
export interface Optional<T> {
  optional: Schema<T>;
}

export function optional<T>(schema: Schema<T>): Optional<T> {
  return { optional: schema };
}

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'string' ? 'a string' : typeof value);

export function string(options: { max: number; min?: number; pattern?: RegExp; what?: string }): Schema<string> {
  return (value, path) => {
    if (typeof value !== 'string') return `${path} must be ${options.what ?? 'a string'}, not ${describe(value)}`;
    if (value.length > options.max) return `${path} is ${value.length} characters long; at most ${options.max} are allowed`;
    if (value.length < (options.min ?? 0)) return `${path} must not be empty`;
    // A NUL would end the string early wherever it reaches C (paths, names).
    if (value.includes('\0')) return `${path} must not contain NUL characters`;
    if (options.pattern && !options.pattern.test(value)) return `${path} must be ${options.what ?? `a string matching ${options.pattern}`}`;
    return undefined;
  };
}

/** A safe integer in [min, max]. */
export function integer(min: number, max: number): Schema<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${path} must be an integer, not ${typeof value === 'number' ? value : describe(value)}`;
    if (value < min || value > max) return `${path} must be between ${min} and ${max}, not ${value}`;
    return undefined;
  };
}

/** A finite number in [min, max]. */
export function finite(min: number, max: number): Schema<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${path} must be a number, not ${describe(value)}`;
    if (value < min || value > max) return `${path} must be between ${min} and ${max}, not ${value}`;
    return undefined;
  };
}

export const boolean: Schema<boolean> = (value, path) => (typeof value === 'boolean' ? undefined : `${path} must be true or false, not ${describe(value)}`);

export function oneOf<const V extends readonly (string | number)[]>(...values: V): Schema<V[number]> {
  return (value, path) => (values.includes(value as never) ? undefined : `${path} must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
}

export function list<T>(item: Schema<T>, maxItems: number): Schema<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return `${path} must be a list, not ${describe(value)}`;
    if (value.length > maxItems) return `${path} has ${value.length} items; at most ${maxItems} are allowed`;
    for (let i = 0; i < value.length; i++) {
      const problem = item(value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
}

export function union<A, B>(a: Schema<A>, b: Schema<B>, what: string): Schema<A | B> {
  return (value, path) => (a(value, path) === undefined || b(value, path) === undefined ? undefined : `${path} must be ${what}`);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object with string keys of at most `keyMax` characters (no `__proto__`), each value checked. */
export function record<T>(value: Schema<T>, options: { maxKeys: number; keyMax: number }): Schema<Record<string, T>> {
  const key = string({ max: options.keyMax, min: 1 });
  return (input, path) => {
    if (!isPlainObject(input)) return `${path} must be an object, not ${describe(input)}`;
    const keys = Object.keys(input);
    if (keys.length > options.maxKeys) return `${path} has ${keys.length} keys; at most ${options.maxKeys} are allowed`;
    for (const k of keys) {
      const problem = key(k, `a key of ${path}`) ?? (k === '__proto__' ? `${path} must not have the key __proto__` : undefined) ?? value(input[k], `${path}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** Every key of T (optional ones too) must be given a check, so the type and its schema cannot drift apart. */
export type Shape<T> = { [K in keyof T]-?: undefined extends T[K] ? Optional<Exclude<T[K], undefined>> : Schema<T[K]> };

/**
 * An object with exactly the keys of `shape`. `extraKeys: 'refuse'` (requests) names an unknown key as the problem;
 * 'allow' (replies) ignores keys a newer agent may add.
 */
export function object<T>(shape: Shape<T>, extraKeys: 'refuse' | 'allow'): Schema<T> {
  const fields = Object.entries(shape) as [string, Schema<unknown> | Optional<unknown>][];
  return (value, path) => {
    if (!isPlainObject(value)) return `${path} must be an object, not ${describe(value)}`;
    if (extraKeys === 'refuse') {
      for (const k of Object.keys(value)) {
        if (!Object.hasOwn(shape, k)) return `${path} has an unknown field "${k.slice(0, 64)}"; it takes ${fields.map(([name]) => name).join(', ') || 'no fields'}`;
      }
    }
    for (const [name, field] of fields) {
      const v = Object.hasOwn(value, name) ? value[name] : undefined;
      if (typeof field === 'function') {
        const problem = v === undefined ? `${path}.${name} is missing` : field(v, `${path}.${name}`);
        if (problem) return problem;
      } else if (v !== undefined) {
        const problem = field.optional(v, `${path}.${name}`);
        if (problem) return problem;
      }
    }
    return undefined;
  };
}

/** The value as a T, or an error with the problem. */
export function checkValue<T>(schema: Schema<T>, value: unknown, path: string): { value: T } | { problem: string } {
  const problem = schema(value, path);
  return problem === undefined ? { value: value as T } : { problem };
}
