// Masks the BPF macros tree-sitter-c cannot parse (SEC("…"), __uint(…), BPF_KPROBE-style wrappers, __always_inline …)
// with same-length C, recording what was masked; after an edit, masks again only the lines around it. Talks to nothing.
import type { EditedSpan } from './probe-file';

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


/**
 * Macro uses longer than this are left alone (keeps pathological input such as "SEC(SEC(SEC(…" linear). Deciding
 * on a macro reads no further than this past its first character, which bounds how far back an edit can matter.
 */
const MAX_MACRO_LENGTH = 1024;

/** Every word the masker looks at beyond the identifier itself. */
const MACRO_WORDS = new Set([
  ...MAP_FIELD_MACROS, ...WRAPPER_MACROS, ...ATTRIBUTE_MACROS, ...ATTRIBUTE_CALL_MACROS, ...SECTION_MACROS, ...TYPE_ARGUMENT_MACROS, ...LOOP_MACROS,
]);

/** Reads of the text, each stopping before `limit`. */
class Scanner {
  constructor(readonly text: string) {}

  skipSpace(i: number, limit: number): number {
    while (i < limit && isSpace(this.text.charCodeAt(i))) i++;
    return i;
  }

  identEnd(i: number, limit: number): number {
    while (i < limit && isIdentPart(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** End of a string or char literal starting at i (the quote), or `limit` if unterminated before it. */
  literalEnd(i: number, limit: number): number {
    const quote = this.text.charAt(i);
    for (let j = i + 1; j < limit; j++) {
      const c = this.text.charAt(j);
      if (c === '\\') j++;
      else if (c === quote) return j + 1;
      else if (c === '\n') return j;
    }
    return limit;
  }

  /** Index just past the `)` matching the `(` at i, or -1 when it is not closed before `limit`. */
  closingParen(i: number, limit: number): number {
    let depth = 0;
    for (let j = i; j < limit; j++) {
      const c = this.text.charAt(j);
      if (c === '"' || c === "'") j = this.literalEnd(j, limit) - 1;
      else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) return j + 1;
      } else if (c === ';' || c === '{' || c === '}') return -1;
    }
    return -1;
  }
}

/**
 * The next place the masker acts on: a line break, `#`, a comment, a string or char literal, or a macro's name as a
 * whole identifier (one not continuing an identifier begun before it; digits alone begin none). What lies between
 * (other identifiers, numbers, punctuation) is left as it is.
 */
const NEXT_TOKEN = new RegExp(`[\\n#"']|\\/[/*]|(?<![A-Za-z_]\\w*)(?:${[...MACRO_WORDS].join('|')})\\b`, 'g');

/** Whether only blanks stand between the line's start and i. */
function atLineStart(text: string, i: number): boolean {
  for (let j = i - 1; j >= 0 && text.charCodeAt(j) !== 10; j--) if (!isSpace(text.charCodeAt(j))) return false;
  return true;
}

/** The end of the preprocessor directive at i (the `#`): its line break, past backslash continuations and comments. */
function directiveEnd(text: string, i: number): number {
  while (i < text.length && text.charAt(i) !== '\n') {
    if (text.charAt(i) === '\\' && text.charAt(i + 1) === '\n') i++;
    else if (text.charAt(i) === '/' && text.charAt(i + 1) === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 1;
    }
    i++;
  }
  return i;
}

/** text[start,end) as spaces, keeping line breaks so lines stay where they were. */
function spaces(text: string, start: number, end: number): string {
  const region = text.slice(start, end);
  return region.includes('\n') || region.includes('\r') ? region.replace(/[^\r\n]/g, ' ') : ' '.repeat(end - start);
}

/** A masked text with what re-masking it after an edit needs (see remaskBpfMacros). */
export interface MaskState extends MaskResult {
  /**
   * The line starts the scan reached outside any comment, directive, literal or macro, ascending: from
   * such a line the masking of the rest of the text depends on that rest alone.
   */
  cleanLineStarts: number[];
}

/** What a scan from `from` produced: the masked text of [from, end) and the macros and clean line starts in it. */
interface ScannedPart extends MaskState {
  end: number;
  /** Whether stopAt ended the scan (else it ran to the end of the text). */
  stopped: boolean;
}

/**
 * Masks text from `from` (a clean line start, or 0) until a clean line start that `stopAt` accepts, or the end.
 * Every decision about a macro at i reads text before i + MAX_MACRO_LENGTH + 1 only.
 */
function scanMacros(text: string, from: number, stopAt?: (lineStart: number) => boolean): ScannedPart {
  const scan = new Scanner(text);
  const out: string[] = [];
  const macros: MaskedMacro[] = [];
  const cleanLineStarts: number[] = [];
  let lastCopied = from;
  const flush = (upTo: number) => {
    if (upTo > lastCopied) out.push(text.slice(lastCopied, upTo));
    lastCopied = upTo;
  };
  const replace = (start: number, end: number, replacement: string) => {
    flush(start);
    out.push(replacement);
    lastCopied = end;
  };

  let stopped = false;
  let i = from;
  while (i < text.length) {
    NEXT_TOKEN.lastIndex = i;
    const token = NEXT_TOKEN.exec(text);
    if (!token) {
      i = text.length;
      break;
    }
    i = token.index;
    const code = text.charCodeAt(i);
    if (code === 10) {
      i++;
      if (stopAt?.(i)) {
        stopped = true;
        break;
      }
      cleanLineStarts.push(i);
      continue;
    }
    if (code === 35) {
      i = atLineStart(text, i) ? directiveEnd(text, i) : i + 1;
      continue;
    }
    if (code === 47) {
      if (text.charAt(i + 1) === '/') {
        const newline = text.indexOf('\n', i);
        i = newline < 0 ? text.length : newline;
      } else {
        const close = text.indexOf('*/', i + 2);
        i = close < 0 ? text.length : close + 2;
      }
      continue;
    }
    if (code === 34 || code === 39) {
      i = scan.literalEnd(i, text.length);
      continue;
    }
    const word = token[0];
    const identEnd = i + word.length;
    const limit = Math.min(text.length, i + MAX_MACRO_LENGTH);
    const open = scan.skipSpace(identEnd, limit);
    const close = text.charAt(open) === '(' ? scan.closingParen(open, limit) : -1;

    if (SECTION_MACROS.has(word) && close > 0) {
      const firstQuote = scan.skipSpace(open + 1, close);
      if (text.charAt(firstQuote) === '"') {
        let value = '';
        let j = firstQuote;
        let valueEnd = firstQuote;
        while (j < close && text.charAt(j) === '"') {
          const end = scan.literalEnd(j, close);
          value += text.slice(j + 1, end - 1);
          valueEnd = end - 1;
          j = scan.skipSpace(end, close);
        }
        macros.push({ kind: 'section', start: i, end: close, value, valueStart: firstQuote + 1, valueEnd });
        replace(i, close, spaces(text, i, close));
        i = close;
        continue;
      }
    } else if (MAP_FIELD_MACROS.has(word) && close > 0) {
      const fieldStart = scan.skipSpace(open + 1, close);
      const fieldEnd = scan.identEnd(fieldStart, close);
      const comma = scan.skipSpace(fieldEnd, close);
      if (fieldEnd > fieldStart && text.charAt(comma) === ',' && fieldStart - i >= 4) {
        const valueStart = scan.skipSpace(comma + 1, close);
        let valueEnd = close - 1;
        while (valueEnd > valueStart && isSpace(text.charCodeAt(valueEnd - 1))) valueEnd--;
        macros.push({
          kind: 'map-field', macro: word, start: i, end: close, field: text.slice(fieldStart, fieldEnd),
          value: text.slice(valueStart, valueEnd), valueStart, valueEnd,
        });
        replace(i, close, 'int' + spaces(text, i + 3, fieldStart) + text.slice(fieldStart, fieldEnd) + spaces(text, fieldEnd, close));
        i = close;
        continue;
      }
    } else if (WRAPPER_MACROS.has(word) && close > 0) {
      const nameStart = scan.skipSpace(open + 1, close);
      const nameEnd = scan.identEnd(nameStart, close);
      const after = scan.skipSpace(nameEnd, close);
      if (nameEnd > nameStart) {
        const name = text.slice(nameStart, nameEnd);
        macros.push({ kind: 'wrapper', macro: word, start: i, end: close, name, nameStart });
        if (text.charAt(after) === ',') {
          // `BPF_KPROBE(fn, int a)` → `           fn( int a)`
          replace(i, after + 1, spaces(text, i, nameStart) + name + spaces(text, nameEnd, after) + '(');
        } else {
          // `BPF_KPROBE(fn)` → `          fn()` (the name moves one column left)
          replace(i, close, spaces(text, i, close - name.length - 2) + name + '()');
        }
        i = close;
        continue;
      }
    } else if (ATTRIBUTE_MACROS.has(word)) {
      macros.push({ kind: 'attribute', name: word, start: i, end: identEnd });
      replace(i, identEnd, spaces(text, i, identEnd));
      i = identEnd;
      continue;
    } else if (ATTRIBUTE_CALL_MACROS.has(word) && close > 0) {
      macros.push({ kind: 'attribute', name: word, start: i, end: close });
      replace(i, close, spaces(text, i, close));
      i = close;
      continue;
    } else if (TYPE_ARGUMENT_MACROS.has(word) && close > 0) {
      let depth = 0;
      let argumentStart = true;
      for (let j = open + 1; j < close - 1; j++) {
        const c = text.charAt(j);
        if (c === '(' || c === '[') depth++;
        else if (c === ')' || c === ']') depth--;
        else if (c === ',' && depth === 0) argumentStart = true;
        else if (argumentStart && !isSpace(text.charCodeAt(j))) {
          argumentStart = false;
          const keywordEnd = scan.identEnd(j, close);
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
    } else if (LOOP_MACROS.has(word) && text.charAt(open) === '(') {
      macros.push({ kind: 'loop', macro: word, start: i, end: identEnd });
      replace(i, identEnd, 'while' + ' '.repeat(word.length - 5));
      i = identEnd;
      continue;
    }
    i = identEnd;
  }
  // an unterminated comment in a directive steps one past the end
  const end = Math.min(i, text.length);
  flush(end);
  return { masked: out.join(''), macros, cleanLineStarts, end, stopped };
}

/** Masks the BPF macros of a probe file with same-length text; offsets and lines are unchanged. */
export function maskBpfMacros(text: string): MaskState {
  const { masked, macros, cleanLineStarts } = scanMacros(text, 0);
  return { masked, macros, cleanLineStarts };
}

/** The first index in [0, length) for which `atOrAfter` holds (it must hold from some index on), or length. */
function firstIndex(length: number, atOrAfter: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (atOrAfter(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

function shiftMacro(macro: MaskedMacro, by: number): MaskedMacro {
  const start = macro.start + by;
  const end = macro.end + by;
  switch (macro.kind) {
    case 'section':
    case 'map-field':
      return { ...macro, start, end, valueStart: macro.valueStart + by, valueEnd: macro.valueEnd + by };
    case 'wrapper':
      return { ...macro, start, end, nameStart: macro.nameStart + by };
    default:
      return { ...macro, start, end };
  }
}

/**
 * The mask of `text`, an edit of the text `previous` masks (`edit` says where they differ): the lines around the
 * edit are masked again, the rest is taken from `previous` (moved by the edit's length change). The scan restarts
 * at a clean line start far enough before the edit that nothing decided before it read the edited text, and stops
 * at the first clean line start after the edit that was clean in `previous` too: from there on both texts are the
 * same and so is their masking. An edit that opens a comment or a macro spanning lines re-masks until they close.
 * `remasked` is the span outside which the masked texts are the same.
 */
export function remaskBpfMacros(previous: MaskState, text: string, edit: EditedSpan): { mask: MaskState; remasked: EditedSpan } {
  const delta = edit.newEnd - edit.oldEnd;
  const clean = previous.cleanLineStarts;
  const kept = firstIndex(clean.length, (index) => clean[index] > edit.start - MAX_MACRO_LENGTH - 1);
  const from = kept > 0 ? clean[kept - 1] : 0;
  let resume = firstIndex(clean.length, (index) => clean[index] >= edit.oldEnd);
  const part = scanMacros(text, from, (lineStart) => {
    if (lineStart < edit.newEnd) return false;
    while (resume < clean.length && clean[resume] < lineStart - delta) resume++;
    return clean[resume] === lineStart - delta;
  });
  const oldEnd = part.end - delta;
  const macros = previous.macros;
  const keptMacros = firstIndex(macros.length, (index) => macros[index].start >= from);
  const resumeMacros = part.stopped ? firstIndex(macros.length, (index) => macros[index].start >= oldEnd) : macros.length;
  const movedMacros = macros.slice(resumeMacros);
  const movedStarts = part.stopped ? clean.slice(resume) : [];
  const mask: MaskState = {
    masked: previous.masked.slice(0, from) + part.masked + previous.masked.slice(oldEnd),
    macros: [...macros.slice(0, keptMacros), ...part.macros, ...(delta === 0 ? movedMacros : movedMacros.map((macro) => shiftMacro(macro, delta)))],
    cleanLineStarts: [...clean.slice(0, kept), ...part.cleanLineStarts, ...(delta === 0 ? movedStarts : movedStarts.map((start) => start + delta))],
  };
  return { mask, remasked: { start: from, oldEnd, newEnd: part.end } };
}
