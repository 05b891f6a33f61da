#!/bin/sh
# SPDX-License-Identifier: MIT
# sd-marker.sh: share the /run/systemd/system marker that systemd --user wants where PID 1 is not systemd.
#
# Usage: sd-marker.sh acquire|release PID
#
# The integration tests (t_systemd.sh) and the bench (bench/run.sh) boot
# their own "systemd --user", which wants /run/systemd/system. Runs at the
# same time share one marker and none removes it under another: each holder
# leaves .cgctl-test-holder.<PID> inside; the marker goes when the last live
# holder of a marker a harness created lets go; one made by anyone else
# (PID 1) is never touched. Both steps run under flock on /run/systemd.
set -u

m=/run/systemd/system

# (Locked) create the marker if absent; hold it if a harness made it.
acquire_locked() {
	if [ ! -d "$m" ]; then
		mkdir -m 0755 "$m" && : >"$m/.cgctl-test-created" || exit 1
	fi
	[ ! -e "$m/.cgctl-test-created" ] || : >"$m/.cgctl-test-holder.$1"
}

# (Locked) let go; the last live holder removes what a harness made.
release_locked() {
	[ -e "$m/.cgctl-test-created" ] || exit 0
	rm -f "$m/.cgctl-test-holder.$1"
	for f in "$m"/.cgctl-test-holder.*; do
		[ -e "$f" ] || continue
		kill -0 "${f##*.}" 2>/dev/null && exit 0
		rm -f "$f"
	done
	rm -f "$m/.cgctl-test-created" && rmdir "$m" || exit 1
	if [ -e /run/systemd/.cgctl-test-created ]; then
		rm -f /run/systemd/.cgctl-test-created && rmdir /run/systemd 2>/dev/null
	fi
	exit 0
}

[ $# -eq 2 ] || { echo "usage: $0 acquire|release PID" >&2; exit 2; }
case $1 in
acquire)
	if [ ! -d /run/systemd ]; then
		mkdir -m 0755 /run/systemd 2>/dev/null && : >/run/systemd/.cgctl-test-created
		[ -d /run/systemd ] || exit 1
	fi
	exec flock /run/systemd "$0" acquire-locked "$2"
	;;
release)
	[ -d /run/systemd ] || exit 0
	exec flock /run/systemd "$0" release-locked "$2"
	;;
acquire-locked) acquire_locked "$2" ;;
release-locked) release_locked "$2" ;;
*) echo "usage: $0 acquire|release PID" >&2; exit 2 ;;
esac
