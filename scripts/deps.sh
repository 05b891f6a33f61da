#!/bin/sh
# SPDX-License-Identifier: MIT
# deps.sh [check]: install the Debian packages cgctl needs to build and test (as root),
# or list the missing ones (otherwise). With "check": only what make check needs
# beyond the build (the Go toolchain for the Go client, libabigail for the ABI
# check, rootless podman for t_podman.sh), so a plain make never needs them.
set -eu

pkgs="build-essential pkg-config libevent-dev libjson-c-dev libsystemd-dev check
      systemd dbus-user-session runc crun busybox-static uidmap util-linux jq clang lld
      libclang-rt-dev valgrind man-db groff-base bash-completion procps"
if [ "${1:-}" = check ]; then
	# podman and what it recommends for rootless use: t_podman.sh (--no-install-recommends below;
	# catatonit runs a pod's infra container, test_podman_pod);
	# gdb (tests that hold cgctld between two steps), tmux (top full-screen), python3 (raw clients),
	# bash-builtins (the integration harness's sleep, mkdir, rm... without a process each; optional).
	pkgs="golang-go abigail-tools podman slirp4netns fuse-overlayfs containernetworking-plugins catatonit gdb tmux python3
	      bash-builtins"
fi

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "cgctl: missing Debian packages:$missing" >&2
	echo "cgctl: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "cgctl: missing packages:$missing (no apt-get here; install them by hand)" >&2
	exit 1
fi
echo "cgctl: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null
