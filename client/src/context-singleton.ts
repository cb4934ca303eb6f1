// One instance of a shared store per extension context: created on first use, disposed with the context. Used by
// the stores several features share (verification results, clangd's diagnostics, confirmed findings).
import type * as vscode from 'vscode';

export function perContext<T extends vscode.Disposable>(create: (context: vscode.ExtensionContext) => T): (context: vscode.ExtensionContext) => T {
  const instances = new WeakMap<vscode.ExtensionContext, T>();
  return (context) => {
    let instance = instances.get(context);
    if (!instance) {
      instance = create(context);
      instances.set(context, instance);
      context.subscriptions.push(instance);
    }
    return instance;
  };
}
