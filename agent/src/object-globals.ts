// Sets `const volatile` (and initialised) globals before load without a skeleton: finds each in the object's BTF DATASEC,
// encodes the value by its type into a copy of .rodata/.data and sets it as the map's initial value. Talks to libbpf.
import { AgentError } from './agent-error';
import { libbpf, type BpfMap, type BpfObject, type Btf, type Libbpf } from './ffi/libbpf';

const KIND = { INT: 1, ARRAY: 3, ENUM: 6, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, VAR: 14, DATASEC: 15, TYPE_TAG: 18, ENUM64: 19 } as const;
const SECTIONS = ['.rodata', '.data'];

interface BtfType {
  kind: number;
  vlen: number;
  nameOff: number;
  sizeOrType: number;
  bytes: Buffer;
}

interface Variable {
  name: string;
  section: string;
  offset: number;
  size: number;
  typeId: number;
}

function readType(b: Libbpf, btf: Btf, id: number): BtfType {
  const head = b.btfTypeBytes(btf, id, 12);
  if (!head) throw new AgentError(`BTF type ${id} is missing from the object.`, 'EBTF');
  const info = head.readUInt32LE(4);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const tail = kind === KIND.INT ? 4 : kind === KIND.ARRAY ? 12 : kind === KIND.DATASEC ? vlen * 12 : kind === KIND.VAR ? 4 : 0;
  const bytes = tail ? (b.btfTypeBytes(btf, id, 12 + tail) as Buffer) : head;
  return { kind, vlen, nameOff: head.readUInt32LE(0), sizeOrType: head.readUInt32LE(8), bytes };
}

function variables(b: Libbpf, btf: Btf): Variable[] {
  const found: Variable[] = [];
  for (const section of SECTIONS) {
    const id = b.btfFindByNameKind(btf, section, KIND.DATASEC);
    if (id <= 0) continue;
    const sec = readType(b, btf, id);
    for (let i = 0; i < sec.vlen; i++) {
      const at = 12 + i * 12;
      const varId = sec.bytes.readUInt32LE(at);
      const v = readType(b, btf, varId);
      if (v.kind !== KIND.VAR) continue;
      found.push({ name: b.btfName(btf, v.nameOff), section, offset: sec.bytes.readUInt32LE(at + 4), size: sec.bytes.readUInt32LE(at + 8), typeId: v.sizeOrType });
    }
  }
  return found;
}

/** Follows typedef/const/volatile to the type that says how to encode. */
function resolve(b: Libbpf, btf: Btf, id: number): BtfType {
  let t = readType(b, btf, id);
  for (let hops = 0; [KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG].includes(t.kind as never) && hops < 20; hops++) {
    t = readType(b, btf, t.sizeOrType);
  }
  return t;
}

function encode(b: Libbpf, btf: Btf, v: Variable, value: number | string | boolean): Buffer {
  const t = resolve(b, btf, v.typeId);
  const out = Buffer.alloc(v.size);
  if (t.kind === KIND.INT || t.kind === KIND.ENUM || t.kind === KIND.ENUM64) {
    const signed = t.kind === KIND.INT ? ((t.bytes.readUInt32LE(12) >>> 24) & 1) === 1 : (t.bytes.readUInt32LE(4) >>> 31) === 1;
    let n: bigint;
    if (typeof value === 'boolean') n = value ? 1n : 0n;
    else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
    else if (typeof value === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(value.trim())) n = BigInt(value.trim().replace(/^-(0x.*)$/i, '-$1'));
    else if (typeof value === 'string' && /^(true|false)$/i.test(value)) n = /^true$/i.test(value) ? 1n : 0n;
    else throw new AgentError(`Global "${v.name}" is an integer of ${v.size} bytes; "${String(value)}" is not an integer.`, 'EINVAL');
    const bits = BigInt(v.size * 8);
    const min = signed ? -(1n << (bits - 1n)) : 0n;
    const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    if (n < min || n > max) throw new AgentError(`Global "${v.name}" holds ${signed ? 'signed' : 'unsigned'} ${v.size * 8}-bit values (${min}…${max}); ${n} does not fit.`, 'ERANGE');
    const unsigned = BigInt.asUintN(Number(bits), n);
    for (let i = 0; i < v.size; i++) out[i] = Number((unsigned >> BigInt(i * 8)) & 0xffn);
    return out;
  }
  if (t.kind === KIND.ARRAY) {
    const element = resolve(b, btf, t.bytes.readUInt32LE(12));
    if (element.kind === KIND.INT && element.sizeOrType === 1) {
      const text = Buffer.from(String(value), 'utf8');
      if (text.length >= v.size) throw new AgentError(`Global "${v.name}" is a char[${v.size}]; "${String(value)}" needs ${text.length + 1} bytes with its terminating NUL.`, 'ERANGE');
      text.copy(out);
      return out;
    }
  }
  throw new AgentError(`Global "${v.name}" has a type the agent cannot set from a parameter (only integers, enums, bools and char arrays).`, 'EINVAL');
}

/** Writes `globals` into the object's .rodata/.data initial values; call after open, before load. */
export function setObjectGlobals(obj: BpfObject, globals: Record<string, number | string | boolean>): void {
  const names = Object.keys(globals);
  if (names.length === 0) return;
  const b = libbpf();
  const btf = b.objectBtf(obj);
  if (!btf) throw new AgentError('The object has no BTF, so its globals cannot be found by name: compile with clang -g.', 'EBTF');
  const vars = variables(b, btf);
  const maps = new Map<string, { map: BpfMap; data: Buffer }>();
  for (const map of b.maps(obj)) {
    if (!b.mapIsInternal(map)) continue;
    const section = SECTIONS.find((s) => b.mapName(map).endsWith(s));
    const data = section ? b.mapInitialValue(map) : null;
    if (section && data) maps.set(section, { map, data });
  }
  for (const name of names) {
    const v = vars.find((x) => x.name === name);
    if (!v) {
      const settable = vars.map((x) => x.name);
      throw new AgentError(
        `The probe has no global "${name}"${settable.length ? `; it has ${settable.join(', ')}` : '; declare one as `const volatile <type> ' + name + ' = <default>;`'}.`,
        'ENOGLOBAL',
      );
    }
    const target = maps.get(v.section);
    if (!target) throw new AgentError(`Global "${name}" lives in ${v.section}, which libbpf did not map for this object.`, 'ENOGLOBAL');
    encode(b, btf, v, globals[name]).copy(target.data, v.offset);
  }
  for (const [section, { map, data }] of maps) {
    const err = b.setMapInitialValue(map, data);
    if (err < 0) throw new AgentError(`libbpf refused the new initial value of ${section} (error ${err}).`, 'EGLOBALS');
  }
}
