#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for eBPF Studio: system packages (clang, bpftool, libbpf, sshd, chromium,
# QEMU), the kernel file systems (bpffs, tracefs, securityfs), Debian's 6.1/6.12 kernels for kernel targets, the npm
# dependencies and code-server. Idempotent; run it as root, or as a user with sudo (used for apt-get and the mounts).
# `bash scripts/setup.sh mounts` does the kernel file system step (and /run/sshd) only: after a reboot, or in a new mount namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
step="${1:-all}"
case "$step" in
  all | mounts) ;;
  *) echo "usage: bash scripts/setup.sh [mounts]" >&2; exit 2 ;;
esac

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "setup: '$*' needs root: run this script as root, or as a user who may use sudo" >&2
    exit 1
  fi
}

# Node.js 20 or newer (npm with it) builds and tests eBPF Studio and runs code-server. It is not installed here: Debian
# 12's own nodejs is 18, and a newer one means adding a vendor's apt source, which is the machine owner's choice.
require_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
    echo "setup: Node.js 20 or newer with npm is needed (found: $(node --version 2>/dev/null || echo no node)); install it first, e.g. from https://nodejs.org/en/download or NodeSource's apt source" >&2
    exit 1
  fi
}

# apt-get as root, waiting while another apt or dpkg holds its locks (a freshly booted machine's unattended upgrades,
# or a second set-up running) instead of failing at once: up to 10 minutes, then apt's own error.
apt_get() {
  local waited=0 err
  err="$(mktemp)"
  until as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" 2>"$err"; do
    if ! grep -q 'Could not get lock\|Unable to lock' "$err" || [ "$waited" -ge 600 ]; then
      cat "$err" >&2; rm -f "$err"; return 1
    fi
    [ "$waited" -eq 0 ] && echo "setup: another apt-get or dpkg holds its lock ($(grep -o 'held by process [0-9]* ([^)]*)' "$err" | head -n 1)); waiting for it" >&2
    sleep 5; waited=$((waited + 5))
  done
  cat "$err" >&2; rm -f "$err"
}

install_packages() {
  apt_get update -qq
  packages=(clang llvm libbpf-dev bpftool linux-libc-dev openssh-server chromium ripgrep libkrb5-dev
    iproute2 sudo unzip python3 make g++ util-linux systemtap-sdt-dev
    qemu-system-x86 busybox-static xz-utils)
  # clang-19 where the distribution has it (Debian 12 backports it; clang 14 also works); clangd serves the editor.
  packages+=(clangd)
  if apt-cache show clang-19 >/dev/null 2>&1; then packages+=(clang-19 llvm-19); fi
  if apt-cache show clangd-19 >/dev/null 2>&1; then packages+=(clangd-19); fi
  apt_get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

# Mounts file system TYPE at DIR unless it is there already. bpffs holds pinned maps (`maps dump --pinned`,
# LIBBPF_PIN_BY_NAME), tracefs the tracepoint, kprobe and uprobe attach points, securityfs the lockdown mode.
mount_kernel_fs() {
  local type=$1 dir=$2
  if [ "$(findmnt -rn -o FSTYPE --mountpoint "$dir" 2>/dev/null | tail -n 1)" = "$type" ]; then return 0; fi
  if [ ! -d "$dir" ]; then
    echo "setup: $dir does not exist, so $type cannot be mounted there (is /sys mounted?)" >&2
    return 1
  fi
  as_root mount -t "$type" "$type" "$dir" || { echo "setup: mount -t $type $type $dir failed" >&2; return 1; }
  echo "setup: mounted $type at $dir"
}

mount_kernel_filesystems() {
  mount_kernel_fs bpf /sys/fs/bpf
  mount_kernel_fs tracefs /sys/kernel/tracing
  # Without securityfs the lockdown mode is unknown, which only costs an explanation: not fatal.
  mount_kernel_fs securityfs /sys/kernel/security || echo "setup: lockdown mode will be reported as unknown" >&2
  # sshd's privilege separation directory (the SSH tests start their own sshd; /run is emptied at each boot).
  [ -d /run/sshd ] || as_root install -d -m 0755 /run/sshd
}

install_project() {
  # Kernels the kernel:6.1 / kernel:6.12 targets boot (unpacked into a cache, never installed as this machine's kernel).
  bash scripts/install-kernels.sh >/dev/null ||
    echo "setup: Debian's 6.1/6.12 cloud kernels are not in the apt sources; kernel targets then need an image path (--target kernel:/path/to/bzImage)" >&2

  npm ci --no-audit --no-fund
  npm run build
  # The editor host the end-to-end tests drive (cached outside the work tree; quick once installed).
  bash scripts/install-code-server.sh >/dev/null
}

if [ "$step" = all ]; then require_node; install_packages; fi
mount_kernel_filesystems
if [ "$step" = all ]; then install_project; fi
