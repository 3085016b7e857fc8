// extension.js — the smallest VS Code extension that runs `polytrace dap`:
// VS Code starts the adapter as an executable on stdin/stdout (the path
// from the polytrace.path setting) for every debug session of type
// "polytrace". Everything else is the Debug Adapter Protocol.
'use strict';

const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('polytrace', {
    createDebugAdapterDescriptor() {
      const program = vscode.workspace.getConfiguration('polytrace').get('path') || 'polytrace';
      return new vscode.DebugAdapterExecutable(program, ['dap']);
    },
  }));
}

function deactivate() {}

module.exports = { activate, deactivate };
