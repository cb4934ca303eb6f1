#!/usr/bin/env bash
# Fetches Debian's cloud kernels (6.1 and 6.12 by default, or the series given as arguments) into
# ~/.cache/ebpf-studio/kernels/<release>/ with `apt-get download` + `dpkg-deb -x`: never installed as this machine's kernel.
set -euo pipefail

cache="${EBPF_STUDIO_KERNELS:-${XDG_CACHE_HOME:-$HOME/.cache}/ebpf-studio/kernels}"
mkdir -p "$cache"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)

for s in "${series[@]}"; do
  # The newest packaged release of the series, e.g. linux-image-6.1.0-57-cloud-amd64-unsigned.
  package=$(apt-cache search --names-only "^linux-image-${s//./\\.}[.-].*-cloud-amd64-unsigned\$" | cut -d' ' -f1 | sort -V | tail -1)
  if [ -z "$package" ]; then
    echo "install-kernels: no linux-image-$s cloud package in the apt sources (run apt-get update)" >&2
    exit 1
  fi
  release=${package#linux-image-}
  release=${release%-unsigned}
  if [ -f "$cache/$release/boot/vmlinuz-$release" ]; then continue; fi
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq "$package")
  dpkg-deb -x "$work"/*.deb "$work/tree"
  rm -rf "${cache:?}/$release"
  mv "$work/tree" "$cache/$release"
  rm -rf "$work"
  echo "install-kernels: $release in $cache/$release"
done
