// Masks the BPF macros tree-sitter-c cannot parse (SEC("…"), __uint/__type/__array/__ulong,
// BPF_KPROBE-style wrappers, __always_inline …) with same-length C, recording what was masked.

/** One masked macro use. Offsets are into the original text (UTF-16 units, same as the masked text). */
export type MaskedMacro =
  | { kind: 'section'; start: number; end: number; value: string; valueStart: number; valueEnd: number }
  | { kind: 'map-field'; macro: string; start: number; end: number; field: string; value: string; valueStart: number; valueEnd: number }
  | { kind: 'wrapper'; macro: string; start: number; end: number; name: string; nameStart: number }
  | { kind: 'attribute'; name: string; start: number; end: number }
  | { kind: 'loop'; macro: string; start: number; end: number }
  | { kind: 'type-argument'; macro: string; keyword: string; start: number; end: number };

export interface MaskResult {
  masked: string;
  macros: MaskedMacro[];
}

const MAP_FIELD_MACROS = new Set(['__uint', '__type', '__array', '__ulong']);

/** libbpf's bpf_tracing.h / usdt.bpf.h wrappers: `int BPF_KPROBE(name, args…)`. */
export const WRAPPER_MACROS = new Set([
  'BPF_KPROBE', 'BPF_KRETPROBE', 'BPF_UPROBE', 'BPF_URETPROBE', 'BPF_KSYSCALL', 'BPF_KPROBE_SYSCALL',
  'BPF_PROG', 'BPF_PROG2', 'BPF_USDT', 'BPF_STRUCT_OPS', 'BPF_STRUCT_OPS_SLEEPABLE',
]);

/** Attribute-like macros written before or inside declarations; masked to spaces. */
export const ATTRIBUTE_MACROS = new Set([
  '__always_inline', '__noinline', '__weak', '__hidden', '__inline', '__maybe_unused', '__unused',
  '__ksym', '__kconfig', '__kptr', '__kptr_untrusted', '__kptr_ref', '__percpu_kptr', '__rcu', '__user',
  '__kernel', '__force', '__iomem', '__percpu', '__arg_ctx', '__arg_nonnull', '__arg_nullable',
  '__arg_trusted', '__arg_untrusted', '__arg_arena', '__bpf_fastcall', '__naked', '__arena', '__uptr',
  '__packed', '__aligned_largest', '__nocast', '__must_check', '__pure', '__cold', '__hot', '__used',
]);

/** Attribute-like macros that take arguments, e.g. `__contains(node_data, node)`. */
const ATTRIBUTE_CALL_MACROS = new Set(['__contains', '__aligned', '__tag', '__printf', 'BPF_ANNOTATE_KV_PAIR']);

/** Macros that name an ELF section like SEC("…") does (Cilium and older samples spell it __section). */
const SECTION_MACROS = new Set(['SEC', '__section']);

/** Macros taking a type as an argument (`bpf_core_type_exists(struct foo)`): its keyword is masked. */
const TYPE_ARGUMENT_MACROS = new Set([
  'bpf_core_field_exists', 'bpf_core_field_size', 'bpf_core_field_offset', 'bpf_core_field_lshift', 'bpf_core_field_rshift',
  'bpf_core_field_signed', 'bpf_core_type_exists', 'bpf_core_type_matches', 'bpf_core_type_size', 'bpf_core_type_id_kernel',
  'bpf_core_type_id_local', 'bpf_core_enum_value_exists', 'bpf_core_enum_value', 'container_of',
  'bpf_core_cast', '__builtin_preserve_type_info', '__builtin_preserve_enum_value',
]);

/** Open-coded iterator loops; `bpf_for(i, 0, n) { … }` is masked to `while  (i, 0, n) { … }`. */
const LOOP_MACROS = new Set(['bpf_for', 'bpf_for_each', 'bpf_repeat']);

function isIdentStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}
function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57);
}
function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11;
}


/** Macro uses longer than this are left alone (keeps pathological input such as "SEC(SEC(SEC(…" linear). */
const MAX_MACRO_LENGTH = 1024;

class Scanner {
  constructor(readonly text: string) {}

  skipSpace(i: number): number {
    while (i < this.text.length && isSpace(this.text.charCodeAt(i))) i++;
    return i;
  }

  identEnd(i: number): number {
    while (i < this.text.length && isIdentPart(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** End of a string or char literal starting at i (the quote), or of the text if unterminated. */
  literalEnd(i: number): number {
    const quote = this.text.charAt(i);
    for (let j = i + 1; j < this.text.length; j++) {
      const c = this.text.charAt(j);
      if (c === '\\') j++;
      else if (c === quote) return j + 1;
      else if (c === '\n') return j;
    }
    return this.text.length;
  }

  /** Index just past the `)` matching the `(` at i, or -1 when it is not closed within MAX_MACRO_LENGTH. */
  closingParen(i: number): number {
    let depth = 0;
    const end = Math.min(this.text.length, i + MAX_MACRO_LENGTH);
    for (let j = i; j < end; j++) {
      const c = this.text.charAt(j);
      if (c === '"' || c === "'") j = this.literalEnd(j) - 1;
      else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) return j + 1;
      } else if (c === ';' || c === '{' || c === '}') return -1;
    }
    return -1;
  }
}

/** Masks the BPF macros of a probe file with same-length text; offsets and lines are unchanged. */
export function maskBpfMacros(text: string): MaskResult {
  const scan = new Scanner(text);
  const out: string[] = [];
  const macros: MaskedMacro[] = [];
  let lastCopied = 0;
  const flush = (upTo: number) => {
    if (upTo > lastCopied) out.push(text.slice(lastCopied, upTo));
    lastCopied = upTo;
  };
  const replace = (start: number, end: number, replacement: string) => {
    flush(start);
    out.push(replacement);
    lastCopied = end;
  };
  /** text[start,end) as spaces, keeping line breaks so lines stay where they were. */
  const spaces = (start: number, end: number) => text.slice(start, end).replace(/[^\r\n]/g, ' ');

  let lineStart = true;
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 10) {
      lineStart = true;
      i++;
      continue;
    }
    if (isSpace(code)) {
      i++;
      continue;
    }
    if (code === 35 && lineStart) {
      // preprocessor directive, with backslash continuations: left as written
      while (i < text.length && text.charAt(i) !== '\n') {
        if (text.charAt(i) === '\\' && text.charAt(i + 1) === '\n') i++;
        else if (text.charAt(i) === '/' && text.charAt(i + 1) === '*') {
          const close = text.indexOf('*/', i + 2);
          i = close < 0 ? text.length : close + 1;
        }
        i++;
      }
      continue;
    }
    lineStart = false;
    if (code === 47 && text.charAt(i + 1) === '/') {
      const newline = text.indexOf('\n', i);
      i = newline < 0 ? text.length : newline;
      continue;
    }
    if (code === 47 && text.charAt(i + 1) === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
      continue;
    }
    if (code === 34 || code === 39) {
      i = scan.literalEnd(i);
      continue;
    }
    if (!isIdentStart(code)) {
      i++;
      continue;
    }
    const identEnd = scan.identEnd(i);
    // every macro handled here starts with S, B, b, c or _; skip other identifiers without slicing them
    if (code !== 83 && code !== 66 && code !== 98 && code !== 99 && code !== 95) {
      i = identEnd;
      continue;
    }
    const word = text.slice(i, identEnd);
    const open = scan.skipSpace(identEnd);
    const hasParen = text.charAt(open) === '(';

    if (SECTION_MACROS.has(word) && hasParen) {
      const close = scan.closingParen(open);
      const firstQuote = scan.skipSpace(open + 1);
      if (close > 0 && text.charAt(firstQuote) === '"') {
        let value = '';
        let j = firstQuote;
        let valueEnd = firstQuote;
        while (text.charAt(j) === '"') {
          const end = scan.literalEnd(j);
          value += text.slice(j + 1, end - 1);
          valueEnd = end - 1;
          j = scan.skipSpace(end);
        }
        macros.push({ kind: 'section', start: i, end: close, value, valueStart: firstQuote + 1, valueEnd });
        replace(i, close, spaces(i, close));
        i = close;
        continue;
      }
    } else if (MAP_FIELD_MACROS.has(word) && hasParen) {
      const close = scan.closingParen(open);
      const fieldStart = scan.skipSpace(open + 1);
      const fieldEnd = scan.identEnd(fieldStart);
      const comma = scan.skipSpace(fieldEnd);
      if (close > 0 && fieldEnd > fieldStart && text.charAt(comma) === ',' && fieldStart - i >= 4) {
        const valueStart = scan.skipSpace(comma + 1);
        let valueEnd = close - 1;
        while (valueEnd > valueStart && isSpace(text.charCodeAt(valueEnd - 1))) valueEnd--;
        macros.push({
          kind: 'map-field', macro: word, start: i, end: close, field: text.slice(fieldStart, fieldEnd),
          value: text.slice(valueStart, valueEnd), valueStart, valueEnd,
        });
        replace(i, close, 'int' + spaces(i + 3, fieldStart) + text.slice(fieldStart, fieldEnd) + spaces(fieldEnd, close));
        i = close;
        continue;
      }
    } else if (WRAPPER_MACROS.has(word) && hasParen) {
      const close = scan.closingParen(open);
      const nameStart = scan.skipSpace(open + 1);
      const nameEnd = scan.identEnd(nameStart);
      const after = scan.skipSpace(nameEnd);
      if (close > 0 && nameEnd > nameStart) {
        const name = text.slice(nameStart, nameEnd);
        macros.push({ kind: 'wrapper', macro: word, start: i, end: close, name, nameStart });
        if (text.charAt(after) === ',') {
          // `BPF_KPROBE(fn, int a)` → `           fn( int a)`
          replace(i, after + 1, spaces(i, nameStart) + name + spaces(nameEnd, after) + '(');
        } else {
          // `BPF_KPROBE(fn)` → `          fn()` (the name moves one column left)
          const body = spaces(i, close - name.length - 2) + name + '()';
          replace(i, close, body);
        }
        i = close;
        continue;
      }
    } else if (ATTRIBUTE_MACROS.has(word)) {
      macros.push({ kind: 'attribute', name: word, start: i, end: identEnd });
      replace(i, identEnd, spaces(i, identEnd));
      i = identEnd;
      continue;
    } else if (ATTRIBUTE_CALL_MACROS.has(word) && hasParen) {
      const close = scan.closingParen(open);
      if (close > 0) {
        macros.push({ kind: 'attribute', name: word, start: i, end: close });
        replace(i, close, spaces(i, close));
        i = close;
        continue;
      }
    } else if (TYPE_ARGUMENT_MACROS.has(word) && hasParen) {
      const close = scan.closingParen(open);
      if (close > 0) {
        let depth = 0;
        let argumentStart = true;
        for (let j = open + 1; j < close - 1; j++) {
          const c = text.charAt(j);
          if (c === '(' || c === '[') depth++;
          else if (c === ')' || c === ']') depth--;
          else if (c === ',' && depth === 0) argumentStart = true;
          else if (argumentStart && !isSpace(text.charCodeAt(j))) {
            argumentStart = false;
            const keywordEnd = scan.identEnd(j);
            const keyword = text.slice(j, keywordEnd);
            if (depth === 0 && (keyword === 'struct' || keyword === 'union' || keyword === 'enum')) {
              macros.push({ kind: 'type-argument', macro: word, keyword, start: j, end: keywordEnd });
              replace(j, keywordEnd, ' '.repeat(keyword.length));
              j = keywordEnd - 1;
            }
          }
        }
        i = close;
        continue;
      }
    } else if (LOOP_MACROS.has(word) && hasParen) {
      macros.push({ kind: 'loop', macro: word, start: i, end: identEnd });
      replace(i, identEnd, 'while' + ' '.repeat(word.length - 5));
      i = identEnd;
      continue;
    }
    i = identEnd;
  }
  flush(text.length);
  return { masked: out.join(''), macros };
}
