# SPDX-License-Identifier: MIT
# t_basic.sh: placement, socket, status, create/list/destroy and names against the real kernel.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Default daemon: in cgctld/, default socket, fresh state dir.
up() { cgt_daemon_start ""; }

# Entry $1 of the last `list --json` (jq object or null).
entry_of() { jq -c --arg n "$1" '.[] | select(.name == $n)' <<<"$OUT"; }

test_daemon_in_leaf_as_user() {
	up || return 1
	local uid cg want
	uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "/proc/$DPID/status")
	[ "$uid" = "$CGT_UID $CGT_UID $CGT_UID $CGT_UID" ] || fail "daemon uids '$uid', want $CGT_UID" || return 1
	cg=$(cgt_proc_cgroup "$DPID")
	want=$(cgt_cg_relpath "$CGT_MROOT/cgctld.leaf")
	[ "$cg" = "$want" ] || fail "daemon in cgroup $cg, want $want" || return 1
	expect_dir cgctld.leaf || return 1
	[ -z "$(cat "$CGT_MROOT/cgroup.procs")" ] || fail "processes left in the managed root: $(cat "$CGT_MROOT/cgroup.procs")" || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq ".leaf == \"cgctld.leaf\" and .pid == $DPID and .uid == $CGT_UID" || return 1
	# The reserved leaf is not a cgroup clients can see, create or destroy.
	c --json list
	expect_rc 0 || return 1
	expect_jq 'all(.[]; .name != "cgctld.leaf")' || return 1
	c destroy cgctld.leaf --recursive --kill
	expect_dir cgctld.leaf "after destroy cgctld.leaf" || return 1
	[ "$(cgt_proc_cgroup "$DPID")" = "$want" ] || fail "daemon moved out of its leaf" || return 1
	c create cgctld.leaf
	expect_rc 1 "create cgctld.leaf" || return 1
}

test_socket_modes() {
	up || return 1
	local dir=$CGT_RUN/cgctl sock=$CGT_RUN/cgctl/io.cgctl.Manager
	[ -d "$dir" ] || fail "$dir missing" || return 1
	[ -S "$sock" ] || fail "$sock is not a socket" || return 1
	[ "$(stat -c '%a %u' "$dir")" = "700 $CGT_UID" ] || fail "socket dir: $(stat -c '%a %u' "$dir"), want 700 $CGT_UID" || return 1
	[ "$(stat -c '%a %u' "$sock")" = "600 $CGT_UID" ] || fail "socket: $(stat -c '%a %u' "$sock"), want 600 $CGT_UID" || return 1
	# The CLI finds the default socket through XDG_RUNTIME_DIR alone.
	cgctl_u --json status
	expect_rc 0 "status without --socket" || return 1
	expect_jq ".socket == \"$sock\"" || return 1
}

test_status_delegated() {
	up || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq_all ".delegated == true and .reason == null" \
		".managed_root == \"$CGT_MROOT\" and .cgroup_mount == \"$CGT_CG2\"" \
		'.version | type == "string" and length > 0' \
		".ledger.path | startswith(\"$DSTATE\")" \
		'.ledger.format_version >= 1 and .ledger.entries == 0' \
		'.ledger.reconcile | (.dropped, .rolled_back, .resumed, .unknown) | length == 0' || return 1
	[ -d "$DSTATE" ] && [ "$(stat -c %u "$DSTATE")" = "$CGT_UID" ] || fail "state dir $DSTATE not created by the user" || return 1
	c status
	expect_rc 0 "status (text)" || return 1
	[ -n "$OUT" ] || fail "status printed nothing" || return 1
}

test_controllers_enabled() {
	local avail c
	avail=$(cat "$CGT_MROOT/cgroup.controllers")
	[ -n "$avail" ] || { skip "no controllers delegated to the scratch subtree"; return; }
	up || return 1
	c --json status
	expect_rc 0 || return 1
	for c in $avail; do
		cgt_has_word "$CGT_MROOT/cgroup.subtree_control" "$c" || fail "$c not enabled in cgctld/cgroup.subtree_control" || return 1
		expect_jq "any(.controllers[]; . == \"$c\")" || return 1
	done
	c create withctl
	expect_rc 0 || return 1
	for c in $avail; do
		compgen -G "$CGT_MROOT/withctl/$c.*" >/dev/null || fail "no $c.* files in the new cgroup" || return 1
	done
}

test_create_named() {
	up || return 1
	c create foo
	expect_rc 0 || return 1
	[ "$OUT" = foo ] || fail "create printed '$OUT', want foo" || return 1
	expect_dir foo || return 1
	[ "$(stat -c %u "$CGT_MROOT/foo")" = "$CGT_UID" ] || fail "foo owned by $(stat -c %u "$CGT_MROOT/foo")" || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq "[.[] | select(.name == \"foo\" and .state == \"active\" and .generated == false and .path == \"$CGT_MROOT/foo\")] | length == 1" || return 1
}

test_create_nested() {
	up || return 1
	c create x/y
	expect_rc 1 "create x/y without x" || return 1
	expect_err NotFound || return 1
	expect_no_dir x || return 1
	c create a
	expect_rc 0 || return 1
	c create a/b
	expect_rc 0 "create a/b" || return 1
	[ "$OUT" = a/b ] || fail "create printed '$OUT', want a/b" || return 1
	expect_dir a/b || return 1
	c --json list
	expect_jq '[.[].name] | index("a") != null and index("a/b") != null' || return 1
}

test_create_existing() {
	up || return 1
	c create dup
	expect_rc 0 || return 1
	c create dup
	expect_rc 1 "second create dup" || return 1
	expect_err AlreadyExists || return 1
	expect_dir dup || return 1
	# A directory someone else made is not adopted.
	mkdir "$CGT_MROOT/handmade"
	c create handmade
	expect_rc 1 "create over a hand-made directory" || return 1
	expect_err AlreadyExists || return 1
	c --json list
	expect_jq 'all(.[]; .name != "handmade")' || return 1
}

test_create_generated() {
	up || return 1
	local name
	c create
	expect_rc 0 || return 1
	name=$OUT
	[ -n "$name" ] && [ "${name#*$'\n'}" = "$name" ] || fail "create printed '$OUT', want one name" || return 1
	expect_dir "$name" || return 1
	c --json list
	expect_jq ".[] | select(.name == \"$name\") | .generated == true and .state == \"active\"" || return 1
	# Two generated names differ.
	c create --generate
	expect_rc 0 || return 1
	[ -n "$OUT" ] && [ "$OUT" != "$name" ] || fail "second generated name '$OUT' vs '$name'" || return 1
	expect_dir "$OUT" || return 1
	# Below a prefix.
	c create pre
	expect_rc 0 || return 1
	c create --generate --prefix pre
	expect_rc 0 "create --generate --prefix pre" || return 1
	case $OUT in pre/?*) ;; *) fail "generated name '$OUT' not below pre/"; return 1 ;; esac
	expect_dir "$OUT" || return 1
}

test_list_json_and_tree() {
	up || return 1
	local now
	c create a && c create a/b && c create c --label k=v && c create d
	expect_rc 0 || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq_all '[.[].name] | sort == ["a", "a/b", "c", "d"]' \
		"all(.[]; .path == \"$CGT_MROOT/\" + .name)" \
		'all(.[]; .state == "active" and .populated == false and .frozen == false)' \
		'all(.[]; .delegate == false and .auto_remove == false and .lease == false)' \
		'(.[] | select(.name == "c") | .labels) == {"k": "v"}' || return 1
	now=$(($(date +%s) * 1000000))
	expect_jq "all(.[]; .created > $now - 3600000000 and .created < $now + 3600000000)" || return 1
	# populated follows the kernel.
	cgt_sleeper "$CGT_MROOT/d" || fail "cannot place a process in d" || return 1
	c --json list
	expect_jq '(.[] | select(.name == "d") | .populated) == true' || return 1
	# A subtree.
	c --json list a
	expect_rc 0 "list a" || return 1
	expect_jq '[.[].name] | sort == ["a", "a/b"]' || return 1
	c list nosuch
	expect_rc 1 "list nosuch" || return 1
	expect_err NotFound || return 1
	# The tree for people: every component, children after parents, no leaf.
	c list
	expect_rc 0 "list (tree)" || return 1
	local la lb
	la=$(grep -n -w a <<<"$OUT" | head -n 1 | cut -d: -f1)
	lb=$(grep -n -w b <<<"$OUT" | head -n 1 | cut -d: -f1)
	[ -n "$la" ] && [ -n "$lb" ] && [ "$lb" -gt "$la" ] || fail "tree lacks a before b" || return 1
	grep -qw c <<<"$OUT" || fail "tree lacks c" || return 1
	! grep -q cgctld.leaf <<<"$OUT" || fail "tree shows the daemon's leaf" || return 1
}

test_destroy() {
	up || return 1
	c create gone
	expect_rc 0 || return 1
	c destroy gone
	expect_rc 0 || return 1
	expect_no_dir gone || return 1
	c --json list
	expect_jq 'all(.[]; .name != "gone")' || return 1
	c create gone2
	c call io.cgctl.Manager.Destroy '{"name":"gone2"}'
	expect_rc 0 || return 1
	expect_jq '.name == "gone2" and .existed == true' || return 1
	expect_no_dir gone2 || return 1
	# Destroyed names can be created again.
	c create gone
	expect_rc 0 "re-create gone" || return 1
	expect_dir gone || return 1
}

test_destroy_never_existed() {
	up || return 1
	local before
	cgt_tree
	before=$CGT_TREE
	c destroy never
	expect_rc 0 || return 1
	c destroy never/deeper
	expect_rc 0 || return 1
	c call io.cgctl.Manager.Destroy '{"name":"never"}'
	expect_rc 0 || return 1
	expect_jq '.existed == false and (.removed | length) == 0' || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "destroy of a missing name changed the tree" || return 1
}

test_destroy_protects_unknown_dirs() {
	up || return 1
	mkdir "$CGT_MROOT/handmade"
	c destroy handmade
	expect_rc 0 || return 1
	expect_dir handmade "destroy removed a directory the daemon never created" || return 1
	c destroy handmade --recursive --kill
	expect_rc 0 || return 1
	expect_dir handmade "destroy --recursive --kill removed it" || return 1
	c call io.cgctl.Manager.Destroy '{"name":"handmade"}'
	expect_jq '.existed == false' || return 1
	# Not inside a subtree it created either (that one is not delegated).
	c create p
	mkdir "$CGT_MROOT/p/foreign"
	c destroy p --recursive --kill
	expect_dir p/foreign "recursive destroy removed a foreign child" || return 1
	[ "$RC" != 0 ] || fail "destroy p --recursive reported success but p still exists" || return 1
}

test_destroy_busy_and_kill() {
	up || return 1
	c create w
	cgt_sleeper "$CGT_MROOT/w" || fail "cannot place a process in w" || return 1
	c destroy w
	expect_rc 1 "destroy of a populated cgroup without --kill" || return 1
	expect_err Busy || return 1
	expect_dir w || return 1
	kill -0 "$SPID" || fail "process killed without --kill" || return 1
	c destroy w --kill
	expect_rc 0 "destroy --kill" || return 1
	expect_no_dir w || return 1
	cgt_wait_gone "$SPID" 2 || fail "process in w survived destroy --kill" || return 1
}

test_destroy_recursive() {
	up || return 1
	c create r && c create r/s && c create r/s/t
	expect_rc 0 || return 1
	c destroy r
	expect_rc 1 "destroy of a cgroup with children" || return 1
	expect_err Busy || return 1
	expect_dir r/s/t || return 1
	cgt_sleeper "$CGT_MROOT/r/s/t" || return 1
	c destroy r --recursive --kill
	expect_rc 0 || return 1
	expect_no_dir r || return 1
	cgt_wait_gone "$SPID" 2 || fail "process in r/s/t survived" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

test_invalid_names() {
	up || return 1
	local before n q long deep
	cgt_tree
	before=$CGT_TREE
	printf -v long 'x%.0s' {1..129}
	printf -v deep 'd/%.0s' {1..17}
	for n in "../x" "a//b" "." ".." "a/../b" "/abs" "trail/" $'new\nline' "$long" "${deep}e"; do
		printf -v q %q "$n"
		c create "$n"
		expect_rc 1 "create $q" || return 1
		expect_err InvalidName "create $q" || return 1
		c destroy "$n"
		expect_rc 1 "destroy $q" || return 1
		expect_err InvalidName "destroy $q" || return 1
	done
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "invalid names changed the tree: ${CGT_TREE//$'\n'/ }" || return 1
	[ ! -e "$CGT_SCRATCH/x" ] || fail "../x escaped the managed root" || return 1
	# The raw protocol gets the same answer.
	c call io.cgctl.Manager.Create '{"name":"../x"}'
	expect_rc 1 || return 1
	expect_err InvalidName || return 1
}

test_escaped_names() {
	up || return 1
	c create cgroup.procs
	expect_rc 0 || return 1
	[ "$OUT" = cgroup.procs ] || fail "create printed '$OUT'" || return 1
	expect_dir _cgroup.procs || return 1
	[ -f "$CGT_MROOT/cgroup.procs" ] || fail "managed root's cgroup.procs file disturbed" || return 1
	c create memory.max && expect_dir _memory.max || return 1
	c create _x && expect_dir __x || return 1
	c create plain && c create plain/cgroup.events && expect_dir plain/_cgroup.events || return 1
	c --json list
	expect_jq_all "(.[] | select(.name == \"cgroup.procs\") | .path) == \"$CGT_MROOT/_cgroup.procs\"" \
		'[.[].name] | sort == ["_x", "cgroup.procs", "memory.max", "plain", "plain/cgroup.events"]' || return 1
	c destroy cgroup.procs
	expect_rc 0 || return 1
	expect_no_dir _cgroup.procs || return 1
	[ -f "$CGT_MROOT/cgroup.procs" ] || fail "managed root's cgroup.procs file gone" || return 1
	c destroy _x && expect_no_dir __x || return 1
}

test_usage_errors() {
	up || return 1
	c frobnicate
	expect_rc 2 "unknown command" || return 1
	c destroy
	expect_rc 2 "destroy without a name" || return 1
	cgctl_u --socket "$CGT_TMP/no-such-socket" status
	expect_rc 1 "status on a missing socket" || return 1
	case $ERR in cgctl:*) ;; *) fail "error not prefixed 'cgctl:': $ERR"; return 1 ;; esac
	c --help
	expect_rc 0 "--help" || return 1
	c --version
	expect_rc 0 "--version" || return 1
}

# Exit 0 when every line of stdin has its state column ("active") at the same
# display column (wide characters count 2 when $1 is "wide", else 1).
same_state_column() {
	/usr/bin/python3 -S -c '
import sys, unicodedata
wide = sys.argv[1] == "wide"
cols = set()
for line in sys.stdin.read().splitlines():
    i = line.find("  active")
    if i < 0:
        continue
    cols.add(sum(2 if wide and unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line[:i]))
sys.exit(0 if len(cols) == 1 else 1)' "$1"
}

test_cli_reader_gone() {
	# cgctl list | head -1: a reader gone ends cgctl by SIGPIPE, quietly, even where SIGPIPE was ignored.
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	local CGT_TIMEOUT=60
	cgt_daemon_start || return 1
	c create piped
	expect_rc 0 || return 1
	install -m 0644 "$HERE/pipe_closed.py" "$CGT_TMP/pipe_closed.py" || return 1
	cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S "$CGT_TMP/pipe_closed.py" "$CGCTL" "$DSOCK" piped \
		>"$CGT_TMP/pipe.out" 2>&1 </dev/null
	RC=$?
	cat "$CGT_TMP/pipe.out"
	[ "$RC" = 0 ] || fail "exit $RC: $(grep -E "^FAIL|Error" "$CGT_TMP/pipe.out" | tr "\n" ";")" || return 1
}

test_list_tree_multibyte() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	cgt_daemon_start || return 1
	local n
	for n in plain-ascii-name é-accent 日本 日本/子 ünï ünï/çødé; do
		c create "$n"
		expect_rc 0 "create $n" || return 1
	done
	# In a UTF-8 locale, by display width (日 takes two columns).
	cgt_as_user_in "$CGT_WORK" env LC_ALL=C.UTF-8 "$CGCTL" --socket "$DSOCK" list >"$CGT_TMP/list.txt" || return 1
	cat "$CGT_TMP/list.txt"
	same_state_column wide <"$CGT_TMP/list.txt" || fail "list columns misaligned in C.UTF-8" || return 1
	# Without a locale, a UTF-8 character still takes one column, not one per byte.
	c destroy --recursive 日本
	expect_rc 0 || return 1
	c list
	expect_rc 0 || return 1
	printf '%s\n' "$OUT"
	same_state_column narrow <<<"$OUT" || fail "list columns misaligned without a locale" || return 1
}
