#!/usr/bin/env bash
# Makes podman usable on the CI VM (Debian 12 in a Firecracker microVM, root, no systemd):
#   - installs podman and busybox-static (for tiny local images; no registry is reachable),
#   - binds cgroup controllers that the VM leaves on the v2 hierarchy to v1 (crun refuses hybrid mode otherwise),
#   - caps podman's default rlimits at the hard limits (root lacks CAP_SYS_RESOURCE here).
# Idempotent; safe to run on a machine that is already set up. Prints "podman: OK" when a stdio round trip works.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! command -v podman >/dev/null || ! [ -x /bin/busybox ]; then
  apt-get install -y -qq podman busybox-static >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq podman busybox-static >/dev/null; }
fi

if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] && [ -r /sys/fs/cgroup/unified/cgroup.controllers ]; then
  for controller in $(cat /sys/fs/cgroup/unified/cgroup.controllers); do
    mkdir -p "/sys/fs/cgroup/$controller"
    mountpoint -q "/sys/fs/cgroup/$controller" || mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller"
  done
fi

mkdir -p /etc/containers
if ! grep -q default_ulimits /etc/containers/containers.conf 2>/dev/null; then
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  pid_max=$(cat /proc/sys/kernel/pid_max)
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
  if [ "$nofile" = unlimited ]; then nofile=65536; fi
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$nofile" "$nofile" "$nproc" "$nproc" >> /etc/containers/containers.conf
fi

# Smoke test: a busybox image, stdin to stdout.
if ! podman image exists localhost/archestra-busybox:latest; then
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  tar -C "$root" -c . | podman import -q - localhost/archestra-busybox:latest >/dev/null
  rm -rf "$root"
fi

echo_back=$(printf '{"jsonrpc":"2.0","id":1}\n' | podman run --rm -i --network=none localhost/archestra-busybox:latest /bin/busybox cat)
[ "$echo_back" = '{"jsonrpc":"2.0","id":1}' ] || { echo "podman stdio round trip failed: $echo_back" >&2; exit 1; }
echo "podman: OK"
