#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for eBPF Studio: system packages (clang, bpftool, libbpf,
# sshd, chromium, QEMU), tracefs, Debian's 6.1/6.12 kernels for kernel targets, the npm dependencies and code-server.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

as_root apt-get update -qq
packages=(clang llvm libbpf-dev bpftool linux-libc-dev openssh-server chromium ripgrep libkrb5-dev
  iproute2 sudo unzip python3 make g++ util-linux systemtap-sdt-dev
  qemu-system-x86 busybox-static xz-utils)
# clang-19 where the distribution has it (Debian 12 backports it; clang 14 also works).
if apt-cache show clang-19 >/dev/null 2>&1; then packages+=(clang-19 llvm-19); fi
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
  as_root mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

# Kernels the kernel:6.1 / kernel:6.12 targets boot (unpacked into a cache, never installed as this machine's kernel).
bash scripts/install-kernels.sh >/dev/null ||
  echo "setup: Debian's 6.1/6.12 cloud kernels are not in the apt sources; kernel targets then need an image path (--target kernel:/path/to/bzImage)" >&2

npm ci --no-audit --no-fund
npm run build
# The editor host the end-to-end tests drive (cached outside the work tree; quick once installed).
bash scripts/install-code-server.sh >/dev/null
