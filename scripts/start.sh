#!/usr/bin/env bash
# Sets up this machine and opens eBPF Studio in an editor with a folder of probe templates: the
# desktop VS Code (`code`) when there is one, otherwise code-server on http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
npm run --silent package
vsix="$PWD/dist/ebpf-studio.vsix"

workspace="${EBPF_STUDIO_WORKSPACE:-$HOME/ebpf-probes}"
if [ ! -d "$workspace" ]; then
  mkdir -p "$workspace"
  cp -r bpf-templates/. "$workspace/"
  echo "Copied the probe templates into $workspace"
fi

if command -v code >/dev/null 2>&1; then
  code --install-extension "$vsix" --force
  exec code "$workspace"
fi

install_dir="$(bash scripts/install-code-server.sh | tail -n 1)"
entry="$install_dir/node_modules/code-server/out/node/entry.js"
state="${XDG_DATA_HOME:-$HOME/.local/share}/ebpf-studio/code-server"
mkdir -p "$state/user-data/User" "$state/extensions"
settings="$state/user-data/User/settings.json"
[ -f "$settings" ] || echo '{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off" }' > "$settings"
node "$entry" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  --install-extension "$vsix" --force >/dev/null
port="${PORT:-8080}"
echo "eBPF Studio: open http://127.0.0.1:$port/?folder=$workspace (Ctrl-C stops the editor)"
exec node "$entry" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry --disable-update-check \
  --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" "$workspace"
