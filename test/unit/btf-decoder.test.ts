// Tests the BTF parser and the map key/value decoder on BTF that clang-19 emits for a C file using
// every kind (test/fixtures/btf/all-kinds.bpf.c); talks to clang-19 (compiled into a temp dir).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { join } from 'node:path';
import { parseBtf, BtfKind, Btf, resolveType, typeSize, typeName, BtfParseError } from '../../engine/btf/btf-types';
import { elfSection } from '../../engine/btf/elf-sections';
import { compileReader, compileMapDecoder, decodeEntries, toHex } from '../../engine/btf/value-decoder';
import { compileJsonWriter, compileMapJsonWriter } from '../../engine/btf/json-writer';

const CLANG = '/usr/bin/clang-19';
const SOURCE = join(__dirname, '../fixtures/btf/all-kinds.bpf.c');
let dir = '';
let btf: Btf;
let rawBtf: Uint8Array;

before(() => {
  if (!existsSync(CLANG)) {
    if (process.env.CI === 'true') throw new Error('clang-19 missing (required in CI)');
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'btf-test-'));
  const obj = join(dir, 'all-kinds.o');
  const multiarch = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
  execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', SOURCE, '-o', obj]);
  const section = elfSection(new Uint8Array(readFileSync(obj)), '.BTF');
  assert.ok(section, 'object has a .BTF section');
  rawBtf = section;
  btf = parseBtf(section);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function skipWithoutClang(t: { skip: (m: string) => void }): boolean {
  if (!btf) {
    if (process.env.CI === 'true') throw new Error('the BTF decoder tests need clang-19');
    t.skip('clang-19 not installed');
    return true;
  }
  return false;
}

test('parses every kind clang emits', (t) => {
  if (skipWithoutClang(t)) return;
  const kinds = new Set<number>();
  for (let id = 1; id <= btf.lastId; id++) kinds.add(btf.type(id).kind);
  for (const k of [BtfKind.Int, BtfKind.Ptr, BtfKind.Array, BtfKind.Struct, BtfKind.Union, BtfKind.Enum, BtfKind.Enum64,
    BtfKind.Typedef, BtfKind.Volatile, BtfKind.Const, BtfKind.Restrict, BtfKind.Func, BtfKind.FuncProto, BtfKind.Var,
    BtfKind.Datasec, BtfKind.Float, BtfKind.DeclTag, BtfKind.TypeTag]) {
    assert.ok(kinds.has(k), `kind ${BtfKind[k]} present`);
  }
  const everything = btf.findByName('everything', BtfKind.Struct);
  assert.ok(everything && everything.kind === BtfKind.Struct);
  assert.equal(everything.size, 240);
  assert.equal(everything.members.length, 23);
  const bits = btf.findByName('bits', BtfKind.Struct);
  assert.ok(bits && bits.kind === BtfKind.Struct);
  assert.deepEqual(bits.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
    [['a', 0, 3], ['b', 3, 5], ['c', 8, 4], ['d', 16, 16], ['e', 32, 8], ['wide', 64, 40]]);
  const big = btf.findByName('big_flags');
  assert.ok(big && big.kind === BtfKind.Enum64);
  assert.deepEqual(big.values.map((v) => v.value), [1n, 0x100000000n]);
  const neg = btf.findByName('neg');
  assert.ok(neg && neg.kind === BtfKind.Enum && neg.signed);
  assert.equal(neg.values[0].value, -3n);
  const fn = btf.findByName('helper_fn', BtfKind.Func);
  assert.ok(fn && fn.kind === BtfKind.Func);
  const proto = btf.type(fn.type);
  assert.ok(proto.kind === BtfKind.FuncProto);
  assert.deepEqual(proto.params.map((p) => p.name), ['x']);
  const tag = btf.findByName('user', BtfKind.TypeTag);
  assert.ok(tag && tag.kind === BtfKind.TypeTag);
  const declTag = btf.findByName('tagged', BtfKind.DeclTag);
  assert.ok(declTag && declTag.kind === BtfKind.DeclTag && declTag.componentIdx === -1 && declTag.type === everything.id);
  const maps = btf.findByName('.maps', BtfKind.Datasec);
  assert.ok(maps && maps.kind === BtfKind.Datasec);
  assert.deepEqual(maps.vars.map((v) => btf.type(v.type).name).sort(), ['everything_map', 'hists', 'percpu_counts']);
  const vol = btf.findByName('global_counter', BtfKind.Var);
  assert.ok(vol && vol.kind === BtfKind.Var);
  assert.equal(resolveType(btf, vol.type).name, 'unsigned long long');
  assert.equal(typeName(btf, vol.type), 'volatile u64');
  assert.equal(typeSize(btf, btf.findByName('hist')!.id), 104);
});

test('decodes a struct with every member kind', (t) => {
  if (skipWithoutClang(t)) return;
  const id = btf.findByName('everything', BtfKind.Struct)!.id;
  const buf = new Uint8Array(240);
  const dv = new DataView(buf.buffer);
  buf.set(new TextEncoder().encode('<b>bash</b>'), 0);
  dv.setBigUint64(16, 123456789n, true);
  dv.setBigInt64(24, -42n, true);
  dv.setBigUint64(32, 0xfedcba9876543210n, true);
  dv.setUint8(40, 1);
  dv.setUint32(44, 5, true);
  dv.setBigUint64(48, 0x100000000n, true);
  dv.setInt32(56, -3, true);
  dv.setBigUint64(64, 0x1000n, true);
  dv.setBigUint64(72, 0xffff888012345678n, true);
  dv.setBigUint64(80, 0n, true);
  dv.setInt32(88, -7, true);
  dv.setInt32(92, 99, true);
  dv.setFloat32(96, 1.5, true);
  dv.setFloat64(104, Math.PI, true);
  dv.setUint32(112, 0x3fc00000, true); // as_float 1.5
  // bits at 120: a=5 (3 bits), b=17 (5 bits) -> byte 0 = 5 | 17<<3; c=-2 (4 bits) at bit 8; d=0xbeef at 16; e=1 at 32; wide=2^39+1 at 64
  dv.setUint8(120, 5 | (17 << 3));
  dv.setUint8(121, 0x0e);
  dv.setUint16(122, 0xbeef, true);
  dv.setUint8(124, 1);
  dv.setBigUint64(128, (1n << 39n) + 1n, true);
  dv.setUint32(136, 11, true);
  dv.setUint32(140, 12, true);
  dv.setUint32(144, 0x0100007f, true);
  dv.setUint16(152, 8080, true);
  dv.setUint8(156, 6);
  buf[157] = 0xfe; buf[158] = 0x80;
  for (let i = 0; i < 6; i++) dv.setUint32(176 + i * 4, i * 10, true);
  dv.setBigInt64(208, -1n, true);
  dv.setBigInt64(216, -1n, true);
  dv.setInt8(224, -128);
  dv.setInt16(226, -300, true);
  const read = compileReader(btf, id);
  const v = read(dv, 0);
  const writer = compileJsonWriter(btf, id);
  const out = new Uint8Array(writer.maxBytes);
  const end = writer.write(dv, 0, out, 0);
  assert.equal(new TextDecoder().decode(out.subarray(0, end)), JSON.stringify(v), 'the JSON writer prints what the reader reads');
  assert.deepEqual(v, {
    comm: '<b>bash</b>',
    big: 123456789,
    negative: -42,
    huge: '18364758544493064720',
    flag: true,
    st: 'ST_BLOCKED',
    bf: 'BIG_HIGH',
    ng: 'NEG_MINUS',
    ptr: 4096,
    user_ptr: String(0xffff888012345678n),
    rptr: 0,
    vol: -7,
    cst: 99,
    f: 1.5,
    d: Math.PI,
    num: { as_u32: 0x3fc00000, as_float: 1.5, bytes: [0, 0, 0xc0, 0x3f] },
    bits: { a: 5, b: 17, c: -2, d: 0xbeef, e: 'ST_RUNNING', wide: 549755813889 },
    inner_a: 11,
    inner_b: 12,
    nested: { saddr: 0x0100007f, daddr: 0, sport: 8080, dport: 0, proto: 6, ip6: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    matrix: [[0, 10, 20], [30, 40, 50]],
    i128: -1,
    sc: -128,
    sh: -300,
  });
});

test('64-bit values at the 2^53 boundary stay exact', (t) => {
  if (skipWithoutClang(t)) return;
  const u64 = btf.findByName('u64', BtfKind.Typedef)!.id;
  const s64 = btf.findByName('s64', BtfKind.Typedef)!.id;
  const read = compileReader(btf, u64);
  const reads = compileReader(btf, s64);
  const dv = new DataView(new ArrayBuffer(8));
  const at = (v: bigint, r = read) => { dv.setBigUint64(0, BigInt.asUintN(64, v), true); return r(dv, 0); };
  assert.equal(at(2n ** 53n - 1n), 9007199254740991);
  assert.equal(at(2n ** 53n), '9007199254740992');
  assert.equal(at(2n ** 64n - 1n), '18446744073709551615');
  assert.equal(at(-(2n ** 53n) + 1n, reads), -9007199254740991);
  assert.equal(at(-(2n ** 63n), reads), '-9223372036854775808');
  assert.equal(at(-1n, reads), -1);
});

test('per-CPU values decode as one value per CPU, keys and values in batches', (t) => {
  if (skipWithoutClang(t)) return;
  const u32 = btf.findByName('u32', BtfKind.Typedef)!.id;
  const hist = btf.findByName('hist', BtfKind.Struct)!.id;
  const perCpu = compileMapDecoder({ keySize: 4, valueSize: 4, keyTypeId: u32, valueTypeId: u32, perCpu: true, possibleCpus: 3 }, btf);
  assert.equal(perCpu.valueStride, 24);
  const keys = new Uint8Array(8);
  new DataView(keys.buffer).setUint32(4, 1, true);
  const values = new Uint8Array(48);
  const vdv = new DataView(values.buffer);
  for (let i = 0; i < 6; i++) vdv.setUint32(i * 8, 100 + i, true);
  assert.deepEqual(decodeEntries(perCpu, 4, keys, values, 2), [
    { key: 0, value: [100, 101, 102] },
    { key: 1, value: [103, 104, 105] },
  ]);
  const hd = compileMapDecoder({ keySize: 4, valueSize: 104, keyTypeId: u32, valueTypeId: hist, perCpu: false, possibleCpus: 2 }, btf);
  const hv = new Uint8Array(104);
  new DataView(hv.buffer).setUint32(4 * 3, 9, true);
  const [entry] = decodeEntries(hd, 4, new Uint8Array(4), hv, 1);
  assert.equal((entry.value as { slots: number[] }).slots[3], 9);
  assert.equal((entry.value as { slots: number[] }).slots.length, 26);
});

test('datasec of a global data map decodes as its variables', (t) => {
  if (skipWithoutClang(t)) return;
  const data = btf.findByName('.data', BtfKind.Datasec)!;
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, 77n, true);
  assert.deepEqual(compileReader(btf, data.id)(dv, 0), { global_counter: 77 });
});

test('without BTF, or when sizes disagree, keys and values are hex', (t) => {
  const noBtf = compileMapDecoder({ keySize: 2, valueSize: 3, perCpu: false, possibleCpus: 1 }, undefined);
  assert.deepEqual(decodeEntries(noBtf, 2, new Uint8Array([0xab, 0x01]), new Uint8Array([0, 0x10, 0xff]), 1), [{ key: 'ab01', value: '0010ff' }]);
  assert.equal(toHex(new Uint8Array([1, 2, 254])), '0102fe');
  if (skipWithoutClang(t)) return;
  const u32 = btf.findByName('u32', BtfKind.Typedef)!.id;
  const mismatch = compileMapDecoder({ keySize: 8, valueSize: 4, keyTypeId: u32, valueTypeId: u32, perCpu: false, possibleCpus: 1 }, btf);
  assert.equal(mismatch.key(new DataView(new ArrayBuffer(8)), 0), '0000000000000000');
});

test('bad BTF gets a clear error', (t) => {
  assert.throws(() => parseBtf(new Uint8Array(10)), BtfParseError);
  assert.throws(() => parseBtf(new Uint8Array(32)), /bad magic/);
  if (skipWithoutClang(t)) return;
  const truncated = rawBtf.slice(0, rawBtf.length - 100);
  assert.throws(() => parseBtf(truncated), /past the end/);
  const swapped = rawBtf.slice();
  new DataView(swapped.buffer).setUint32(24 + 4, 0x1f000000, true); // type 1's info word: kind 31
  assert.throws(() => parseBtf(swapped), /unknown BTF kind/);
});

test('the generated JSON writer matches JSON.stringify of the reader on random bytes of every map type', (t) => {
  if (skipWithoutClang(t)) return;
  const names = ['everything', 'flow_key', 'hist', 'bits', 'number'];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 0xff;
  };
  for (const name of names) {
    const type = btf.findByName(name)!;
    const size = typeSize(btf, type.id);
    const read = compileReader(btf, type.id);
    const writer = compileJsonWriter(btf, type.id);
    for (let round = 0; round < 200; round++) {
      const bytes = new Uint8Array(size + 8);
      for (let i = 0; i < bytes.length; i++) bytes[i] = round % 3 === 0 && i % 5 ? 0 : random();
      const dv = new DataView(bytes.buffer);
      const out = new Uint8Array(writer.maxBytes);
      const end = writer.write(dv, 8, out, 0);
      assert.ok(end <= writer.maxBytes, `${name}: ${end} bytes within the bound ${writer.maxBytes}`);
      assert.equal(new TextDecoder().decode(out.subarray(0, end)), JSON.stringify(read(dv, 8)), `${name} round ${round}`);
    }
  }
  const u32 = btf.findByName('u32', BtfKind.Typedef)!.id;
  const perCpu = compileMapJsonWriter({ keySize: 4, valueSize: 4, keyTypeId: u32, valueTypeId: u32, perCpu: true, possibleCpus: 2 }, btf);
  const vals = new DataView(new ArrayBuffer(16));
  vals.setUint32(0, 7, true);
  vals.setUint32(8, 9, true);
  const out = new Uint8Array(perCpu.maxEntryBytes);
  assert.equal(new TextDecoder().decode(out.subarray(0, perCpu.value(vals, 0, out, 0))), '[7,9]');
});
