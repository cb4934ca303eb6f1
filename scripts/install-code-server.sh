#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 on Node 20) into a cache outside the work tree, once.
# Talks to the npm registry, Debian's /usr/bin/rg, and node-gyp with this machine's Node headers.
#
# Usage: scripts/install-code-server.sh        prints the install directory on its last line.
# Idempotent: when the install is complete (marker file present) it returns at once.
set -euo pipefail

VERSION=4.100.3
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ebpf-studio"
# Native modules are built for this Node's ABI, so each ABI gets its own install.
NODE_ABI="$(node -p process.versions.modules)"
INSTALL_DIR="$CACHE_ROOT/code-server-$VERSION-node-abi$NODE_ABI"
MARKER="$INSTALL_DIR/.install-complete"

if [[ -f "$MARKER" ]]; then
  echo "$INSTALL_DIR"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$INSTALL_DIR.lock"
flock 9
if [[ -f "$MARKER" ]]; then
  echo "$INSTALL_DIR"
  exit 0
fi

for tool in rg make g++ python3; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is required but not found" >&2; exit 1; }
done
[[ -f /usr/include/krb5.h || -f /usr/include/krb5/krb5.h ]] || {
  echo "install-code-server: the kerberos module needs libkrb5-dev (apt-get install libkrb5-dev)" >&2; exit 1; }

NODE_BIN="$(command -v node)"
NODE_PREFIX="$(cd "$(dirname "$NODE_BIN")/.." && pwd)"
NODE_GYP="$(dirname "$(npm root -g)")/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || { echo "install-code-server: npm's bundled node-gyp not found" >&2; exit 1; }
GYP_FLAGS=()
[[ -f "$NODE_PREFIX/include/node/common.gypi" ]] && GYP_FLAGS=(--nodedir="$NODE_PREFIX")

STAGING="$INSTALL_DIR.partial"
rm -rf "$STAGING" "$INSTALL_DIR"
mkdir -p "$STAGING"
log() { echo "install-code-server: $*" >&2; }
started=$(date +%s)

log "npm install code-server@$VERSION (no scripts)"
(cd "$STAGING" && echo '{"private":true}' > package.json \
  && npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >&2)

CS="$STAGING/node_modules/code-server"
VSCODE="$CS/lib/vscode"
log "npm install in lib/vscode and lib/vscode/extensions"
(cd "$VSCODE" && npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2)
(cd "$VSCODE/extensions" && npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2)

log "linking /usr/bin/rg as @vscode/ripgrep's binary"
RG_DIR="$VSCODE/node_modules/@vscode/ripgrep"
mkdir -p "$RG_DIR/bin"
ln -sf "$(command -v rg)" "$RG_DIR/bin/rg"

for module in node-pty kerberos @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog; do
  log "node-gyp rebuild $module"
  (cd "$VSCODE/node_modules/$module" && node "$NODE_GYP" rebuild "${GYP_FLAGS[@]}" -j 2 >&2)
done

ARGON2_DIR="$(find "$STAGING/node_modules" -type d -name argon2 -path '*/node_modules/argon2' -print -quit)"
[[ -n "$ARGON2_DIR" ]] || { log "argon2 not found under $STAGING/node_modules"; exit 1; }
log "building argon2 with node-pre-gyp ($ARGON2_DIR)"
(cd "$ARGON2_DIR" && npx --yes @mapbox/node-pre-gyp@1 install --fallback-to-build --build-from-source "${GYP_FLAGS[@]}" >&2)

ln -sfn node_modules "$VSCODE/node_modules.asar"

mv "$STAGING" "$INSTALL_DIR"
date -u +%FT%TZ > "$MARKER"
log "installed in $INSTALL_DIR in $(( $(date +%s) - started )) s"
echo "$INSTALL_DIR"
