// Signature help for helper calls: finds the unclosed `name(` before the cursor in the text (works
// on half-typed code the parser cannot make sense of) and the argument the cursor is in.
import { MarkupKind, type Position, type SignatureHelp } from 'vscode-languageserver-types';
import type { ProbeFile } from '../analysis/probe-file';
import { HELPER_MACROS } from '../analysis/probe-file';
import { kernelFacts } from '../kernel/kernel-facts';
import { helperMarkdown } from './helper-docs';

const LOOK_BACK = 4000;

/** The call the offset is inside: callee name and the 0-based argument index. */
export function enclosingCall(text: string, offset: number): { name: string; argument: number } | null {
  let depth = 0;
  let commas = 0;
  const stop = Math.max(0, offset - LOOK_BACK);
  for (let i = offset - 1; i >= stop; i--) {
    const c = text[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) {
        if (c !== '(') return null;
        const name = /([A-Za-z_]\w*)\s*$/.exec(text.slice(Math.max(0, i - 200), i));
        return name ? { name: name[1], argument: commas } : null;
      }
      depth--;
    } else if (c === ',' && depth === 0) commas++;
    else if (c === ';' && depth === 0) return null;
  }
  return null;
}

export function signatureHelpAt(file: ProbeFile, position: Position): SignatureHelp | null {
  const offset = file.offsetAt(position);
  const call = enclosingCall(file.text, offset);
  if (!call) return null;
  const helperName = Object.hasOwn(HELPER_MACROS, call.name) ? HELPER_MACROS[call.name] : call.name;
  const helper = kernelFacts.helper(helperName);
  if (!helper || helperName !== call.name || file.functionNamed(call.name)) return null;
    return {
    signatures: [{
      label: helper.signature,
      documentation: { kind: MarkupKind.Markdown, value: helperMarkdown(helper, file.targetKernel, file.programTypesAt(offset), file.helperAvailability) },
      parameters: helper.params.map((param) => ({ label: `${param.type}${param.type.endsWith('*') ? '' : ' '}${param.name}` })),
    }],
    activeSignature: 0,
    activeParameter: Math.min(call.argument, Math.max(0, helper.params.length - 1)),
  };
}
