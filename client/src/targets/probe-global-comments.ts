// A probe's `const volatile` globals with the comments the source gives them, asked of the language server
// (ebpfStudio/globals): what the attach-with-parameters flow shows beside each global. Talks to the language server.
import type * as vscode from 'vscode';
import { GlobalsRequest, type ProbeGlobal } from '../../../protocol/lsp-requests';
import type { Studio } from '../studio';

export async function requestProbeGlobals(studio: Studio, uri: vscode.Uri): Promise<ProbeGlobal[]> {
  const client = await studio.languageClient;
  try {
    return await client.sendRequest(GlobalsRequest, { uri: client.code2ProtocolConverter.asUri(uri) });
  } catch (error) {
    throw new Error(`the eBPF language server could not list the globals of ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
