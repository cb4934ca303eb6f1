// The address of one program's verifier log as a virtual document (ebpf-verifier-log:), optionally of one of the
// extra kernels verified alongside the current target; shared by the log view and verify-on-save's links.
import * as vscode from 'vscode';

export const VERIFIER_LOG_SCHEME = 'ebpf-verifier-log';

export function verifierLogUri(source: vscode.Uri, program: string, level: 1 | 2, target?: string): vscode.Uri {
  const name = source.path.split('/').pop() ?? 'probe';
  const query = new URLSearchParams({ source: source.toString(), program, level: String(level), ...(target ? { target } : {}) }).toString();
  return vscode.Uri.from({ scheme: VERIFIER_LOG_SCHEME, path: `/${name} — ${program}${target ? ` on ${target}` : ''}${level === 2 ? ' (level 2)' : ''}.log`, query });
}
