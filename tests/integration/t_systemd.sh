# SPDX-License-Identifier: MIT
# t_systemd.sh: a real systemd --user activates, supervises and delegates to cgctld; install, man pages, completion.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
#
# The user manager runs as the test user in "user@UID.service" below the
# scratch root, where PID 1's user@.service would put it, with a HOME and an
# XDG_RUNTIME_DIR of its own under $CGT_TMP. The units come from
# `make install DESTDIR=...`; only ExecStart is pointed at the harness's copy
# of cgctld, and a drop-in sends the daemon's output to a file (no journald
# here). Where PID 1 is not systemd, the manager wants the /run/systemd/system
# marker: created only when absent, removed again when the last harness run
# that needs it is done (the test's tear-down, or the harness's EXIT trap).

SD_MANAGER=${CGCTL_TEST_SYSTEMD:-/lib/systemd/systemd}
SD_MASK=()   # user units to mask before the manager boots (dbus.socket...)

# --- helpers ----------------------------------------------------------------

# Skip (77) unless systemd and the tools the tests use are here.
sd_preflight() {
	local t
	[ -x "$SD_MANAGER" ] || { skip "$SD_MANAGER missing (scripts/deps.sh installs systemd)"; return; }
	for t in systemctl systemd-analyze make pkg-config flock; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return; }
	done
}

# Make sure the /run/systemd/system marker exists and defer letting go of it;
# shared with concurrent harness and bench runs (scripts/sd-marker.sh), never
# touched where someone else made it (PID 1).
sd_marker() {
	"$TOP/scripts/sd-marker.sh" acquire "$$" || return 1
	cgt_defer "$TOP/scripts/sd-marker.sh" release "$$"
}

# systemctl --user, as the test user, against the manager sd_boot started.
sdctl() {
	timeout -k 2 "$CGT_TIMEOUT" setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		env -i HOME="$SD_HOME" XDG_RUNTIME_DIR="$SD_RUN" PATH=/usr/bin:/bin \
		systemctl --user --no-pager "$@"
}

# Property $2 of unit $1 (default cgctld.service), value only.
sdprop() {
	sdctl show -p "$2" --value "${1:-cgctld.service}"
}

# The CLI as the test user (from workloads/), with the manager's runtime dir:
# no --socket, so the default path must be the one the socket unit listens on.
c() {
	# shellcheck disable=SC2034 # read by cgt_as_user_in through dynamic scope
	local CGT_RUN=$SD_RUN CGT_HOME=$SD_HOME
	cgctl_u "$@"
}

# A cgroup path as systemd and /proc/PID/cgroup show it, mapped into the cgroup2 mount.
sd_cg_abs() {
	local rel=$1
	[ "$CGT_CG2_ROOT" = / ] || rel=${rel#"$CGT_CG2_ROOT"}
	printf '%s%s\n' "$CGT_CG2" "$rel"
}

# Boot "systemd --user" for the test user in its delegated cgroup; wait until
# its start-up is over. Sets SD_DIR, SD_HOME, SD_RUN, SD_LOG, SD_CG, SD_PID.
sd_boot() {
	local i state
	sd_preflight || return
	# In the test's subshell: runs after run.sh's tear-down has stopped the manager.
	trap cgt_run_deferred EXIT
	SD_DIR=$(mktemp -d "$CGT_TMP/systemd.XXXXXX") && chmod 0755 "$SD_DIR" || return 1
	SD_HOME=$SD_DIR/home
	SD_RUN=$SD_DIR/run
	SD_LOG=$SD_DIR/cgctld.log
	mkdir -m 0700 "$SD_HOME" "$SD_RUN" && : >"$SD_LOG" &&
		chown "$CGT_UID:$CGT_GID" "$SD_HOME" "$SD_RUN" "$SD_LOG" || return 1
	printf '%s\n' "$SD_LOG" >>"$CGT_TMP/daemon-logs"
	sd_marker || { fail "cannot create the /run/systemd/system marker"; return 1; }
	if [ "${#SD_MASK[@]}" -gt 0 ]; then
		mkdir -p "$SD_HOME/.config/systemd/user" || return 1
		for i in "${SD_MASK[@]}"; do ln -s /dev/null "$SD_HOME/.config/systemd/user/$i" || return 1; done
		chown -R -h "$CGT_UID:$CGT_GID" "$SD_HOME/.config"
	fi
	SD_CG=$CGT_SCRATCH/user@$CGT_UID.service
	cgt_mkcg "$SD_CG" || return 1
	printf '+ systemd --user (cgroup %s, XDG_RUNTIME_DIR %s)\n' "${SD_CG#"$CGT_SCRATCH"/}" "$SD_RUN"
	cgt_in_cg_bg "$SD_CG" \
		setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		env -i HOME="$SD_HOME" USER="$CGT_USER" LOGNAME="$CGT_USER" XDG_RUNTIME_DIR="$SD_RUN" \
		PATH=/usr/bin:/bin "$SD_MANAGER" --user </dev/null >"$SD_DIR/manager.log" 2>&1
	SD_PID=$BGPID
	cgt_track_pid "$SD_PID"
	for ((i = 0; i < CGT_TIMEOUT * 10; i++)); do
		cgt_proc_state_v "$SD_PID"
		if [ "$CGT_STATE" = Z ] || ! kill -0 "$SD_PID" 2>/dev/null; then
			wait "$SD_PID"
			fail "systemd --user exited during start-up (status $?): $(tail -n 5 "$SD_DIR/manager.log" | tr '\n' ' ')"
			return 1
		fi
		if [ -S "$SD_RUN/systemd/private" ]; then
			# To a file, not $(sdctl ...): a fork of this shell each poll.
			sdctl is-system-running >"$SD_DIR/state" 2>/dev/null
			state=""
			read -r state <"$SD_DIR/state"
			case $state in
			running) return 0 ;;
			degraded)
				printf '  note: user manager degraded: %s\n' "$(sdctl --failed --plain --no-legend | tr '\n' ' ')"
				return 0
				;;
			esac
		fi
		cgt_nap 0.1
	done
	fail "systemd --user not up within ${CGT_TIMEOUT}s (state '${state:-no private socket}')"
}

# make install into a fresh DESTDIR; put its units into the user's unit path
# ($XDG_RUNTIME_DIR/systemd/user) with ExecStart at the harness's cgctld, add
# a drop-in with the output file and the lines in "$@" ([Service] section);
# daemon-reload. Sets SD_DEST, SD_UNITS. One make install a run (the tests
# only read its units; test_systemd_install_uninstall checks an install of its own).
sd_install() {
	local unitdir line
	SD_DEST=$CGT_TMP/sd-install
	if [ ! -d "$SD_DEST" ]; then
		rm -rf "$SD_DEST.new"
		sd_make install "$SD_DEST.new" && mv "$SD_DEST.new" "$SD_DEST" || return 1
	fi
	unitdir=$SD_DEST$(pkg-config --variable=systemduserunitdir systemd)
	cgt_has_line "$unitdir/cgctld.service" 'ExecStart=/usr/bin/cgctld' ||
		fail "installed unit lacks ExecStart=/usr/bin/cgctld: $(grep ExecStart "$unitdir/cgctld.service")" || return 1
	SD_UNITS=$SD_RUN/systemd/user
	mkdir -p "$SD_UNITS/cgctld.service.d" || return 1
	sed "s|^ExecStart=/usr/bin/cgctld|ExecStart=$CGCTLD|" "$unitdir/cgctld.service" >"$SD_UNITS/cgctld.service"
	cp "$unitdir/cgctld.socket" "$SD_UNITS/" || return 1
	{
		printf '[Service]\nStandardOutput=append:%s\nStandardError=inherit\n' "$SD_LOG"
		# LeakSanitizer cannot stop the world under the unit's seccomp filter.
		[ -z "${ASAN_OPTIONS:-}" ] || printf 'Environment=ASAN_OPTIONS=%s:detect_leaks=0\n' "$ASAN_OPTIONS"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$SD_UNITS/cgctld.service.d/50-test.conf"
	chown -R "$CGT_UID:$CGT_GID" "$SD_UNITS"
	sdctl daemon-reload || fail "daemon-reload failed" || return 1
	[ "$(sdprop cgctld.service LoadState)" = loaded ] ||
		fail "cgctld.service not loaded: $(sdctl status cgctld.service 2>&1 | head -n 5 | tr '\n' ' ')"
}

# Run the Makefile's target $1 (install or uninstall) with DESTDIR=$2 PREFIX=/usr,
# on the harness's build; never rebuilds (-o all), the binaries are what they are.
sd_make() {
	make -s -C "$TOP" -o all B="$BUILD" DESTDIR="$2" PREFIX=/usr "$1" >"$CGT_TMP/make.log" 2>&1 ||
		fail "make $1 failed: $(tail -n 3 "$CGT_TMP/make.log" | tr '\n' ' ')"
}

# Boot, install, start cgctld.socket (extra drop-in lines in "$@").
sd_up() {
	sd_boot || return
	sd_install "$@" || return 1
	sdctl start cgctld.socket || fail "cannot start cgctld.socket" || return 1
	[ "$(sdprop cgctld.socket ActiveState)" = active ] || fail "cgctld.socket not active" || return 1
}

# Wait up to $2 seconds until cgctld.service is active with a MainPID other than $1.
sd_wait_new_main() {
	local old=$1 limit=$(($2 * 10)) i pid
	for ((i = 0; i < limit; i++)); do
		pid=$(sdprop cgctld.service MainPID)
		if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$old" ] &&
			[ "$(sdprop cgctld.service ActiveState)" = active ]; then
			SD_MAIN=$pid
			return 0
		fi
		cgt_nap 0.1
	done
	fail "cgctld.service not active again with a new MainPID within ${2}s: $(sdctl show -p ActiveState,SubState,Result,NRestarts,MainPID cgctld.service | tr '\n' ' ')"
}

# The managed root cgctld.service should get: its own cgroup, in the cgroup2 mount.
sd_unit_root() {
	local cg
	cg=$(sdprop cgctld.service ControlGroup)
	[ -n "$cg" ] || { fail "cgctld.service has no ControlGroup"; return 1; }
	sd_cg_abs "$cg"
}

# Put a sleeper in managed cgroup $2 below root $1 (placed by root); sets SPID.
sd_busy() {
	cgt_sleeper "$1/$2" || fail "cannot place a process in $2"
}

# After a restart, entry $1 is either still listed with its directory, or gone
# from disk and reported dropped by reconciliation: never a stale listing.
sd_expect_reconciled() {
	local name=$1 root=$2 listed
	c --json status
	local status=$OUT
	c --json list
	listed=$(jq --arg n "$name" 'any(.[]; .name == $n)' <<<"$OUT")
	if [ -d "$root/$name" ]; then
		[ "$listed" = true ] || fail "$name exists on disk but is not listed" || return 1
	else
		[ "$listed" = false ] || fail "$name listed but its directory is gone" || return 1
		expect_jq ".ledger.reconcile.dropped | index(\"$name\") != null" "$status" || return 1
		printf '  note: systemd removed the empty cgroup %s when the unit went down\n' "$name"
	fi
}

# --- packaging ------------------------------------------------------------

test_systemd_install_uninstall() {
	local dest=$CGT_TMP/destdir unitdir compdir f left vdir out ma lib
	command -v make >/dev/null || { skip "make not installed"; return; }
	# With PREFIX=/usr the libraries go to Debian's multiarch directory, as the Makefile finds it.
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -print-multiarch 2>/dev/null)
	lib=/usr/lib${ma:+/$ma}
	rm -rf "$dest"
	sd_make install "$dest" || return 1
	unitdir=$(pkg-config --variable=systemduserunitdir systemd 2>/dev/null)
	unitdir=${unitdir:-/usr/lib/systemd/user}
	compdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null)
	compdir=${compdir:-/usr/share/bash-completion/completions}
	for f in /usr/bin/cgctld /usr/bin/cgctl $lib/libcgctl.a $lib/libcgctl.so.1.0.0 \
		/usr/include/cgctl.h $lib/pkgconfig/libcgctl.pc "$unitdir/cgctld.service" \
		"$unitdir/cgctld.socket" /usr/share/man/man1/cgctl.1 /usr/share/man/man3/libcgctl.3 \
		/usr/share/man/man8/cgctld.8 "$compdir/cgctl"; do
		[ -f "$dest$f" ] && [ ! -L "$dest$f" ] || fail "make install did not install $f" || return 1
	done
	for f in libcgctl.so.1 libcgctl.so; do
		[ "$(readlink "$dest$lib/$f")" = libcgctl.so.1.0.0 ] ||
			fail "$lib/$f is not a symlink to libcgctl.so.1.0.0" || return 1
	done
	[ -x "$dest/usr/bin/cgctld" ] || fail "cgctld not executable" || return 1
	cgt_has_line "$dest$unitdir/cgctld.service" 'ExecStart=/usr/bin/cgctld' ||
		fail "unit's ExecStart is not /usr/bin/cgctld" || return 1
	grep -q '@[A-Z]*@' "$dest$unitdir/cgctld.service" "$dest$lib/pkgconfig/libcgctl.pc" &&
		{ fail "unsubstituted @VAR@ in an installed file"; return 1; }
	# The .pc names the install prefix and builds a program against the installed library.
	out=$(PKG_CONFIG_PATH=$dest$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
		pkg-config --cflags --libs libcgctl 2>&1) || fail "pkg-config libcgctl: $out" || return 1
	[ "$(PKG_CONFIG_PATH=$dest$lib/pkgconfig pkg-config --variable=prefix libcgctl)" = /usr ] ||
		fail "libcgctl.pc prefix is not /usr" || return 1
	if command -v cc >/dev/null; then
		printf '#include <cgctl.h>\n#include <stdio.h>\nint main(void) { puts(cgctl_strerror(-CGCTL_ENODELEGATION)); return 0; }\n' \
			>"$CGT_TMP/pc-test.c"
		# shellcheck disable=SC2086 # pkg-config output is a word list
		cc -o "$CGT_TMP/pc-test" "$CGT_TMP/pc-test.c" $out 2>"$CGT_TMP/cc.err" ||
			fail "cannot build against the installed libcgctl: $(head -c 300 "$CGT_TMP/cc.err")" || return 1
		# A sanitizer build's library pulls libasan in after the program's own libc.
		ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 LD_LIBRARY_PATH=$dest$lib \
			"$CGT_TMP/pc-test" >/dev/null ||
			fail "program linked against the installed libcgctl.so.1 does not run" || return 1
	fi
	# systemd accepts the installed units (with their man pages at hand, and
	# ExecStart pointed at the installed binary, which verify wants to exist).
	vdir=$CGT_TMP/verify
	rm -rf "$vdir" && mkdir -p "$vdir/units" "$vdir/run" || return 1
	sed "s|^ExecStart=/usr/bin/|ExecStart=$dest/usr/bin/|" "$dest$unitdir/cgctld.service" >"$vdir/units/cgctld.service"
	cp "$dest$unitdir/cgctld.socket" "$vdir/units/"
	out=$(cd "$vdir/units" && XDG_RUNTIME_DIR=$vdir/run MANPATH=$dest/usr/share/man \
		systemd-analyze --user verify cgctld.service cgctld.socket 2>&1)
	f=$?
	printf '+ systemd-analyze --user verify -> %s\n%s\n' "$f" "$out"
	[ "$f" = 0 ] || fail "systemd-analyze verify failed: ${out:0:300}" || return 1
	# Only systemd < 254 may warn, about the key it does not know yet.
	out=$(grep -v "Unknown key 'DelegateSubgroup'" <<<"$out" | grep -v '^$')
	[ -z "$out" ] || fail "systemd-analyze verify warned: ${out:0:300}" || return 1
	# Uninstall leaves no file or symlink behind.
	sd_make uninstall "$dest" || return 1
	left=$(find "$dest" ! -type d)
	[ -z "$left" ] || fail "make uninstall left: $(tr '\n' ' ' <<<"$left")" || return 1
	rm -rf "$dest" "$vdir"
}

test_systemd_man_pages() {
	local page err top=$TOP/docs
	command -v groff >/dev/null || { skip "groff not installed"; return; }
	for page in "$top/cgctld.8" "$top/cgctl.1" "$top/libcgctl.3"; do
		[ -f "$page" ] || fail "missing $page" || return 1
		err=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
		[ -z "$err" ] || fail "groff warns on ${page##*/}: ${err:0:300}" || return 1
		if command -v man >/dev/null; then
			err=$(MANWIDTH=80 man -l --warnings -E UTF-8 "$page" 2>&1 >/dev/null)
			[ -z "$err" ] || fail "man -l warns on ${page##*/}: ${err:0:300}" || return 1
			# Narrow terminals too: no "cannot adjust" or "can't break" complaints.
			err=$(MANWIDTH=60 man -l --warnings -E UTF-8 "$page" 2>&1 >/dev/null)
			[ -z "$err" ] || fail "man -l (60 columns) warns on ${page##*/}: ${err:0:300}" || return 1
		fi
		grep -q '^\.SH NAME' "$page" || fail "${page##*/} has no NAME section" || return 1
	done
	# Every command and global option the CLI knows is in cgctl(1); every
	# cgctld option in cgctld(8); every exported function in libcgctl(3).
	local w
	for w in $("$CGCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)  .*/\1/p'); do
		grep -q "^\.SS.*\\b$w\\b" "$top/cgctl.1" || fail "cgctl(1) does not document command $w" || return 1
	done
	for w in $("$CGCTL" --help | sed '/^Commands:/,$d' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF -- "${w//-/\\-}" "$top/cgctl.1" || fail "cgctl(1) does not document $w" || return 1
	done
	for w in $("$CGCTLD" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF -- "${w//-/\\-}" "$top/cgctld.8" || fail "cgctld(8) does not document $w" || return 1
	done
	for w in $(grep -oE '\bcgctl_[a-z_]+\(' "$TOP/client/cgctl.h" | tr -d '(' | sort -u); do
		grep -q "\\b$w\\b" "$top/libcgctl.3" || fail "libcgctl(3) does not document $w" || return 1
	done
}

# Complete the words "$@" (the last one is being completed); sets COMPREPLY.
sd_complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_cgctl
	printf '+ complete %s -> %s\n' "$*" "${COMPREPLY[*]}"
}

test_systemd_completion() {
	local f=$TOP/completion/cgctl.bash sock=$CGT_RUN/comp.sock
	bash -n "$f" || fail "completion/cgctl.bash does not parse" || return 1
	# shellcheck source=/dev/null
	. "$f" || return 1
	complete -p cgctl >/dev/null 2>&1 || fail "no completion registered for cgctl" || return 1
	sd_complete "$CGCTL" ""
	[[ " ${COMPREPLY[*]} " == *" status "*" destroy "*" call "* ]] || fail "commands: ${COMPREPLY[*]}" || return 1
	sd_complete "$CGCTL" --so
	[ "${COMPREPLY[*]}" = --socket ] || fail "global options: ${COMPREPLY[*]}" || return 1
	sd_complete "$CGCTL" destroy --r
	[ "${COMPREPLY[*]}" = --recursive ] || fail "destroy options: ${COMPREPLY[*]}" || return 1
	sd_complete "$CGCTL" kill x --signal TE
	[ "${COMPREPLY[*]}" = TERM ] || fail "signals: ${COMPREPLY[*]}" || return 1
	# Names of existing cgroups, from the daemon named by --socket on the line.
	cgt_daemon_start "" --socket "$sock" || return 1
	cgctl_u --socket "$sock" create web && cgctl_u --socket "$sock" create web/api &&
		cgctl_u --socket "$sock" create db
	expect_rc 0 || return 1
	# The cgctl being completed runs as the user: root's cgctl talks to root's daemons only.
	local cli=$CGT_TMP/bin/cgctl-as-user
	printf '#!/bin/sh\nexec %s --reuid=%s --regid=%s --init-groups %s "$@"\n' \
		"$(command -v setpriv)" "$CGT_UID" "$CGT_GID" "$CGCTL" >"$cli" && chmod 0755 "$cli" || return 1
	sd_complete "$cli" --socket "$sock" destroy w
	[ "${COMPREPLY[*]}" = "web web/api" ] || fail "names after --socket: '${COMPREPLY[*]}'" || return 1
	sd_complete "$cli" --socket="$sock" stats ""
	[ "${COMPREPLY[*]}" = "db web web/api" ] || fail "names after --socket=: '${COMPREPLY[*]}'" || return 1
	# Without jq: the same names from the JSON text.
	local nojq=$CGT_TMP/nojq
	mkdir -p "$nojq" && ln -sf "$(command -v sed)" "$(command -v grep)" "$(command -v sort)" "$nojq/"
	PATH=$nojq sd_complete "$cli" --socket "$sock" freeze ""
	[ "${COMPREPLY[*]}" = "db web web/api" ] || fail "names without jq: '${COMPREPLY[*]}'" || return 1
	# A daemon that is not there: no names, no noise, no hang.
	sd_complete "$CGCTL" --socket "$CGT_RUN/none.sock" destroy ""
	[ "${#COMPREPLY[@]}" = 0 ] || fail "names from a missing daemon: ${COMPREPLY[*]}" || return 1
}

# --- a real systemd --user ---------------------------------------------------

test_systemd_socket_activation() {
	sd_up || return
	local sock=$SD_RUN/cgctl/io.cgctl.Manager root main
	[ -S "$sock" ] || fail "no socket at $sock" || return 1
	[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), want 600" || return 1
	[ "$(stat -c %a "${sock%/*}")" = 700 ] || fail "socket dir mode $(stat -c %a "${sock%/*}")" || return 1
	[ "$(sdprop cgctld.socket FileDescriptorName)" = varlink ] || fail "FileDescriptorName" || return 1
	[ "$(sdprop cgctld.service ActiveState)" = inactive ] || fail "service active before any client" || return 1
	# The first client starts the daemon.
	c --json status
	expect_rc 0 "first status through the socket" || return 1
	[ "$(sdprop cgctld.service ActiveState)" = active ] || fail "service not active after the first call" || return 1
	main=$(sdprop cgctld.service MainPID)
	expect_jq ".pid == $main" || return 1
	# Its managed root is the cgroup systemd delegated to the unit, and it sits in the leaf.
	root=$(sd_unit_root) || return 1
	expect_jq ".delegated == true and .managed_root == \"$root\" and .leaf == \"cgctld.leaf\"" || return 1
	# (systemd 252 also attaches the new pid from the manager's side after the
	# fork; when that lands after cgctld moved itself, cgctld is back in the root.)
	[ "$(cgt_proc_cgroup "$main")" = "$(sdprop cgctld.service ControlGroup)/cgctld.leaf" ] ||
		fail "daemon in $(cgt_proc_cgroup "$main"), not in its leaf (systemd's post-fork attach won the race?)" ||
		return 1
	[ "$(stat -c %u "$root")" = "$CGT_UID" ] || fail "unit cgroup not delegated to the user" || return 1
	# The ledger lives in the StateDirectory systemd made.
	expect_jq ".ledger.path | startswith(\"$SD_HOME/\")" || return 1
	case $(sdprop cgctld.service StatusText) in
	"Managing $root"*) ;;
	*) fail "StatusText '$(sdprop cgctld.service StatusText)', want cgctld's 'Managing $root...'" || return 1 ;;
	esac
	c create app && c create app/one
	expect_rc 0 || return 1
	[ -d "$root/app/one" ] || fail "app/one not created below the unit's cgroup" || return 1
	c --json list
	expect_jq '[.[].name] == ["app", "app/one"]' || return 1
	[ "$(sdprop cgctld.service NRestarts)" = 0 ] || fail "restarts while activating" || return 1
}

test_systemd_readme_enable() {
	# README's "Enabling it (systemd)" lines as written, as the user, with cgctl on PATH and no
	# CGCTL_SOCKET: enable --now the installed socket unit, and status finds the daemon it starts.
	sd_boot || return
	sd_install || return 1
	local block root CGT_RUN=$SD_RUN CGT_HOME=$SD_HOME
	block=$(sed -n '/^## Enabling it (systemd)/,/^## /p' "$TOP/README.md" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d')
	[ -n "$block" ] || fail "no 'Enabling it (systemd)' lines in README.md" || return 1
	printf '+ the lines:\n%s\n' "$block"
	cgt_as_user_in "$CGT_WORK" /usr/bin/env PATH="$CGT_TMP/bin:/usr/bin:/bin" bash -e -c "$block" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "README's lines"
	expect_rc 0 || return 1
	[ "$(sdctl is-enabled cgctld.socket)" = enabled ] || fail "cgctld.socket not enabled" || return 1
	root=$(sd_unit_root) || return 1
	grep -qx 'Delegated: *yes' <<<"$OUT" || fail "status does not say Delegated: yes" || return 1
	grep -qx "Managed root: *$root" <<<"$OUT" || fail "status does not say Managed root: $root" || return 1
	case $root in */cgctld.service) ;; *) fail "managed root $root is not the unit's cgroup" || return 1 ;; esac
}

test_systemd_ready_after_notify() {
	# A start-up delay in front of the daemon: Type=notify must keep the unit
	# "activating" until cgctld says READY=1, and `systemctl start` waiting.
	sd_up 'ExecStart=' "ExecStart=/bin/sh -c 'sleep 2 && exec \$\$0' $CGCTLD" || return
	local t0 t1 state main comm
	sdctl start --no-block cgctld.service || fail "start --no-block failed" || return 1
	cgt_nap 0.5
	state=$(sdprop cgctld.service ActiveState)
	[ "$state" = activating ] || fail "unit '$state' before READY=1, want activating" || return 1
	[ -z "$(sdprop cgctld.service StatusText)" ] || fail "StatusText before READY=1" || return 1
	t0=$EPOCHREALTIME
	sdctl start cgctld.service || fail "systemctl start failed" || return 1
	t1=$EPOCHREALTIME
	printf '  systemctl start waited %s s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	# It returned once cgctld was there, whatever the machine's load: the unit's
	# main process is cgctld itself, no longer the shell sleeping in front of it
	# (and cgctld has said STATUS=, with READY=1, below).
	main=$(sdprop cgctld.service MainPID)
	comm=$(cat "/proc/$main/comm" 2>/dev/null)
	[ "$comm" = cgctld ] ||
		fail "systemctl start returned while the main process ($main) was '$comm', before cgctld was ready" || return 1
	[ "$(sdprop cgctld.service ActiveState)" = active ] || fail "not active after start returned" || return 1
	case $(sdprop cgctld.service StatusText) in
	"Managing "*) ;;
	*) fail "StatusText '$(sdprop cgctld.service StatusText)' is not cgctld's STATUS=" || return 1 ;;
	esac
	# Ready means serving: the next call is answered at once.
	c --timeout 1000 status
	expect_rc 0 "status right after start" || return 1
}

test_systemd_stop() {
	sd_up || return
	local root main busy
	c create idle && c create busy
	expect_rc 0 || return 1
	root=$(sd_unit_root) || return 1
	main=$(sdprop cgctld.service MainPID)
	sd_busy "$root" busy || return 1
	busy=$SPID
	sdctl stop cgctld.service || fail "systemctl stop failed" || return 1
	[ "$(sdprop cgctld.service ActiveState)" = inactive ] || fail "still $(sdprop cgctld.service ActiveState)" || return 1
	[ "$(sdprop cgctld.service Result)" = success ] || fail "Result $(sdprop cgctld.service Result)" || return 1
	[ "$(sdprop cgctld.service ExecMainCode)" = 1 ] && [ "$(sdprop cgctld.service ExecMainStatus)" = 0 ] ||
		fail "exit code $(sdprop cgctld.service ExecMainCode)/$(sdprop cgctld.service ExecMainStatus), want exited/0" || return 1
	cgt_wait_gone "$main" 2 || fail "daemon $main still running" || return 1
	cgt_has_text "$SD_LOG" 'stopping' && tail -n 1 "$SD_LOG" | grep -q 'stopped' ||
		fail "no clean stop in the log: $(tail -n 2 "$SD_LOG" | tr '\n' ' ')" || return 1
	# KillMode=process: the workload outlives the daemon, in its cgroup.
	kill -0 "$busy" 2>/dev/null || fail "stopping cgctld killed the workload in busy/" || return 1
	cgt_has_line "$root/busy/cgroup.procs" "$busy" || fail "workload left busy/" || return 1
	# The socket stays; the next client brings the daemon back with its ledger.
	[ "$(sdprop cgctld.socket ActiveState)" = active ] || fail "cgctld.socket went down" || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq '.[] | select(.name == "busy") | .populated == true' || return 1
	sd_expect_reconciled idle "$root" || return 1
	c destroy busy --kill
	expect_rc 0 || return 1
	[ ! -e "$root/busy" ] || fail "busy/ not removed" || return 1
}

test_systemd_restart_after_kill9() {
	sd_up || return
	local root main busy
	c create idle && c create busy && c create busy/inner
	expect_rc 0 || return 1
	root=$(sd_unit_root) || return 1
	main=$(sdprop cgctld.service MainPID)
	sd_busy "$root" busy/inner || return 1
	busy=$SPID
	kill -KILL "$main"
	sd_wait_new_main "$main" 10 || return 1
	[ "$(sdprop cgctld.service NRestarts)" = 1 ] || fail "NRestarts $(sdprop cgctld.service NRestarts), want 1" || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq_all ".pid == $SD_MAIN and .managed_root == \"$root\" and .delegated == true" \
		'.ledger.reconcile.unknown == [] and .ledger.reconcile.rolled_back == []' || return 1
	[ "$(cgt_proc_cgroup "$SD_MAIN")" = "$(cgt_cg_relpath "$root")/cgctld.leaf" ] ||
		fail "restarted daemon in $(cgt_proc_cgroup "$SD_MAIN"), not its leaf" || return 1
	# The populated entries and their workload survived; the ledger still has them.
	kill -0 "$busy" 2>/dev/null || fail "the crash took the workload with it" || return 1
	c --json list
	expect_jq_all '[.[].name] | index("busy") != null and index("busy/inner") != null' \
		'.[] | select(.name == "busy/inner") | .populated == true' || return 1
	sd_expect_reconciled idle "$root" || return 1
	# And it still works.
	c destroy busy --recursive --kill
	expect_rc 0 || return 1
	[ ! -e "$root/busy" ] || fail "busy/ not removed after the restart" || return 1
}

# True once systemd has received a WATCHDOG=1 after monotonic timestamp $1.
sd_pinged_since() {
	[ "$(sdprop cgctld.service WatchdogTimestampMonotonic)" -gt "${1:-0}" ] 2>/dev/null
}

test_systemd_watchdog() {
	sd_up 'WatchdogSec=2s' 'TimeoutAbortSec=2s' || return
	local main ts1 i seen=""
	c status
	expect_rc 0 || return 1
	[ "$(sdprop cgctld.service WatchdogUSec)" = 2s ] || fail "WatchdogUSec $(sdprop cgctld.service WatchdogUSec)" || return 1
	main=$(sdprop cgctld.service MainPID)
	ts1=$(sdprop cgctld.service WatchdogTimestampMonotonic)
	# The pings keep it alive past the interval: more than one interval (2.5 s)
	# and a ping received, without a restart (at most 5 s, then it fails).
	local t0=$SECONDS
	cgt_nap 2.5
	cgt_wait_for 2.5 sd_pinged_since "$ts1" || return 1
	[ "$(sdprop cgctld.service ActiveState)" = active ] ||
		fail "unit $(sdprop cgctld.service ActiveState) after $((SECONDS - t0)) s" || return 1
	[ "$(sdprop cgctld.service MainPID)" = "$main" ] || fail "MainPID changed: watchdog restart" || return 1
	[ "$(sdprop cgctld.service NRestarts)" = 0 ] || fail "NRestarts $(sdprop cgctld.service NRestarts)" || return 1
	# Without the pings (SIGSTOP), systemd gives up on it and restarts it.
	kill -STOP "$main"
	for ((i = 0; i < 120; i++)); do
		[ "$(sdprop cgctld.service Result)" = watchdog ] && seen=1
		[ -n "$seen" ] && [ "$(sdprop cgctld.service ActiveState)" = active ] &&
			[ "$(sdprop cgctld.service MainPID)" != "$main" ] && break
		cgt_nap 0.1
	done
	kill -CONT "$main" 2>/dev/null
	[ -n "$seen" ] || fail "a stopped daemon did not trip the watchdog" || return 1
	sd_wait_new_main "$main" 5 || return 1
	c status
	expect_rc 0 "status after the watchdog restart" || return 1
}

test_systemd_attach_without_session_bus() {
	# Many user managers run without a D-Bus session bus (no dbus-user-session
	# on servers). The common-ancestor fallback must still reach systemd: it
	# listens on $XDG_RUNTIME_DIR/systemd/private, as systemctl --user uses.
	SD_MASK=(dbus.socket dbus.service)
	sd_up || return
	local root pid
	[ ! -S "$SD_RUN/bus" ] || fail "a session bus socket exists despite the mask" || return 1
	c create target
	expect_rc 0 || return 1
	root=$(sd_unit_root) || return 1
	# A process of the user in the harness's own root-owned cgroup: the
	# kernel refuses to move it (common ancestor not the user's).
	setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups sleep 300 </dev/null >/dev/null 2>&1 &
	pid=$!
	cgt_track_pid "$pid"
	[ "$(stat -c %u "$(sd_cg_abs "$(cgt_proc_cgroup "$pid")")")" = 0 ] ||
		{ skip "the harness's own cgroup is not root-owned: no common-ancestor refusal to provoke"; return; }
	c attach target "$pid"
	if [ "$RC" = 0 ]; then
		# PID 1 is systemd here and the user manager's escalation worked.
		cgt_has_line "$root/target/cgroup.procs" "$pid" || fail "attach said yes, $pid is not in target" || return 1
		return 0
	fi
	expect_rc 1 || return 1
	expect_err PermissionDenied || return 1
	# Refused by systemd (PID 1 is not systemd here), not unreachable.
	case $ERR in
	*"No such file or directory"* | *"Connection refused"* | *"Transport endpoint"*)
		fail "daemon could not reach the systemd user manager without a session bus: ${ERR:0:240}"
		return 1
		;;
	esac
}
