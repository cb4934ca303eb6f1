// A probe's programs with their SEC lines, asked of the language server (ebpfStudio/programs): the one parse the
// attach lenses and Verify with Kernel use. Talks to the language server through the Studio hub's client.
import type * as vscode from 'vscode';
import { ProgramsRequest, type ProbeProgram } from '../../../protocol/lsp-requests';
import type { Studio } from '../studio';

export async function requestProbePrograms(studio: Studio, uri: vscode.Uri): Promise<ProbeProgram[]> {
  const client = await studio.languageClient;
  try {
    return await client.sendRequest(ProgramsRequest, { uri: client.code2ProtocolConverter.asUri(uri) });
  } catch (error) {
    throw new Error(`the eBPF language server could not list the programs of ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
