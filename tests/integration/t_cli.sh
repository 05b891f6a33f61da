# SPDX-License-Identifier: MIT
# t_cli.sh: the CLI's promises as cgctl(1), cgctld(8) and --help state them: options, --json, exit codes.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# cli_options.py for program $1 (cgctl or cgctld): its binary $2, man page $3, sources $4.
# With the clients' getopt_spy.so (make test-bins) it reads each parser's option
# table and needs about a hundred execs; without it, each option on its own (900).
cli_options_check() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	/usr/bin/python3 -S "$HERE/cli_options.py" "$@" "$CGT_TMP" \
		"${CGCTL_TEST_CLIENT_BUILD:-$BUILD}/tests/integration/getopt_spy.so" >"$CGT_TMP/opts.out" 2>&1
	RC=$?
	cat "$CGT_TMP/opts.out"
	[ "$RC" = 0 ] || fail "$(grep -m1 '^FAIL' "$CGT_TMP/opts.out" || tail -n 1 "$CGT_TMP/opts.out")"
}

test_cli_options_documented() {
	# Every option cgctl takes is in --help and in cgctl(1), and every one they name exists: each
	# command's getopt table, and every option word of the sources, the help texts and the man page
	# the table would take, each tried on the command (cli_options.py).
	cli_options_check cgctl "$CGCTL" "$TOP/docs/cgctl.1" "$TOP/client"
}

test_cli_daemon_options_documented() {
	# The same for cgctld: every option it takes is in --help and in cgctld(8)'s OPTIONS, and back.
	cli_options_check cgctld "$CGCTLD" "$TOP/docs/cgctld.8" "$TOP/daemon"
}

# The last command's stdout is one JSON value (jq reads exactly one), of type
# $1, and jq expression $2 (if given) is true of it as expect_jq judges: one jq.
expect_json_type() {
	local t
	# shellcheck disable=SC2016 # $want is jq's
	jq -sr --arg want "$1" 'if length != 1 then "\(length) values"
		elif (.[0] | type) != $want then .[0] | type
		else .[0] | (try (['"${2:-true}"'] | length > 0 and (last | . != false and . != null)) catch false)
			| if . then "ok" else "false" end end' <<<"$OUT" >"$CGT_TMP/json-type" 2>&1 ||
		fail "stdout is not JSON: ${OUT:0:200}" || return 1
	cgt_slurp t "$CGT_TMP/json-type"
	[ "$t" != false ] || fail "jq '$2' false on: ${OUT:0:300}" || return 1
	[ "$t" = ok ] || fail "stdout: $t, want one $1: ${OUT:0:200}" || return 1
}

test_cli_json_every_command() {
	# --json: every command's stdout is JSON and nothing else, of the shape cgctl(1) gives.
	cgt_daemon_start || return 1
	c --json status && expect_rc 0 && expect_json_type object '.delegated == true' || return 1
	c --json list && expect_rc 0 && expect_json_type array 'length == 0' || return 1
	c --json create web && expect_rc 0 && expect_json_type object '.name == "web"' || return 1
	c --json list && expect_rc 0 && expect_jq '.[0] | has("name", "path", "state", "populated", "created")' || return 1
	c --json stats web && expect_rc 0 && expect_json_type object '.populated == false' || return 1
	c --json set web cgroup.max.descendants=5 && expect_rc 0 && expect_json_type object '. == {}' || return 1
	c --json freeze web && expect_rc 0 && expect_json_type object '. == {}' || return 1
	c --json thaw web && expect_rc 0 && expect_json_type object '. == {}' || return 1
	c --json kill web --signal TERM && expect_rc 0 && expect_json_type object '. == {}' || return 1
	cgt_sleeper "$CGT_WORK" || return 1
	c --json attach web "$SPID" && expect_rc 0 && expect_json_type object ".attached == [$SPID]" || return 1
	c --json attach --pidfd web "$SPID" && expect_rc 0 && expect_jq ".attached == [$SPID]" || return 1
	c --json destroy web --kill && expect_rc 0 && expect_json_type object '.name == "web" and .existed == true and .removed == ["web"]' || return 1
	case $ERR in *"not found"*) fail "destroy --json said: $ERR"; return 1 ;; esac
	# Nothing to remove: still exit 0, the note on stderr only.
	c --json destroy web && expect_rc 0 && expect_json_type object '.existed == false' || return 1
	expect_err "not found" || return 1
	c --json call GetStatus && expect_rc 0 && expect_json_type object || return 1
	c --json hook-log && expect_rc 0 && expect_json_type array || return 1
	# A failure: nothing on stdout, the daemon's error on stderr, exit 1.
	c --json destroy web/../x
	expect_rc 1 && [ -z "$OUT" ] || fail "a failed destroy --json printed: $OUT" || return 1
	c --json freeze nosuch
	expect_rc 1 && expect_err NotFound && [ -z "$OUT" ] || fail "a failed freeze --json printed: $OUT" || return 1
}

test_cli_exit_codes_without_daemon() {
	# cgctl(1)'s EXIT STATUS for every command, with no daemon at the socket: --help 0 on stdout
	# alone; an unknown option 2, said on stderr alone; a call 1 ("is cgctld running?"), stdout
	# empty; run 125 (cgctl itself failed, CMD never ran); hook-log needs no daemon.
	local sock=$CGT_RUN/none.sock cmd args rc want
	local -A call=([status]="" [list]="" [create]=x [destroy]=x [attach]="x 1" [set]="x pids.max=1"
		[stats]=x [freeze]=x [thaw]=x [kill]=x [watch]="" [top]="-b -n 1" [call]=GetStatus
		[run]="-- true" [hook-log]="")
	for cmd in $("$CGCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
		[ -n "${call[$cmd]+set}" ] || fail "no case for command $cmd" || return 1
		cgctl_u --socket "$sock" "$cmd" --help
		expect_rc 0 "$cmd --help" && [ -n "$OUT" ] && [ -z "$ERR" ] ||
			fail "$cmd --help: stdout ${#OUT} bytes, stderr '${ERR:0:100}'" || return 1
		cgctl_u --socket "$sock" "$cmd" --no-such-option
		expect_rc 2 "$cmd --no-such-option" && expect_err "Try 'cgctl $cmd --help'" || return 1
		[ -z "$OUT" ] || fail "$cmd --no-such-option printed on stdout: $OUT" || return 1
		# shellcheck disable=SC2086 # the arguments are words
		cgctl_u --socket "$sock" "$cmd" ${call[$cmd]}
		case $cmd in run) want=125 ;; hook-log) want=0 ;; *) want=1 ;; esac
		expect_rc "$want" "$cmd ${call[$cmd]} without a daemon" || return 1
		[ "$want" = 0 ] || expect_err "is cgctld running?" || return 1
		[ "$want" = 0 ] || [ -z "$OUT" ] || fail "$cmd printed on stdout without a daemon: $OUT" || return 1
	done
	# A wait past the interface's 300000 ms is a usage error, before any call.
	for cmd in freeze thaw; do
		cgctl_u --socket "$sock" "$cmd" x --timeout 300001
		expect_rc 2 "$cmd --timeout 300001" && expect_err "1 to 300000" || return 1
		cgctl_u --socket "$sock" "$cmd" x --timeout 300000
		expect_rc 1 "$cmd --timeout 300000 without a daemon" && expect_err "is cgctld running?" || return 1
	done
	cgctl_u --version
	expect_rc 0 && [[ $OUT =~ ^cgctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: '$OUT'" || return 1
	cgctl_u
	expect_rc 2 "no command" && expect_err "Usage: cgctl" || return 1
	cgctl_u --socket "$sock" frobnicate
	expect_rc 2 "unknown command" && expect_err "unknown command" || return 1
	"$CGCTLD" --version >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctld --version"
	expect_rc 0 && [[ $OUT =~ ^cgctld\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "cgctld --version: '$OUT'" || return 1
	"$CGCTLD" --no-such-option >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctld --no-such-option"
	expect_rc 2 && [ -z "$OUT" ] || fail "cgctld --no-such-option: stdout '$OUT'" || return 1
}

test_cli_list_contract() {
	# cgctl(1)'s list: empty state, columns, name order (tree and --json), NAME, NotFound.
	cgt_daemon_start || return 1
	c list
	expect_rc 0 && [ -z "$OUT" ] && expect_err "No managed cgroups." || fail "empty list: '$OUT'" || return 1
	c -q list
	expect_rc 0 && [ -z "$OUT$ERR" ] || fail "empty list -q: '$OUT' '$ERR'" || return 1
	c --json list
	expect_rc 0 && expect_jq '. == []' || return 1
	local n
	for n in web web-x web/b web/a B; do
		c create "$n"
		expect_rc 0 || return 1
	done
	c create --auto-remove --delegate job
	c freeze web/a
	expect_rc 0 || return 1
	c --json list
	expect_jq '[.[].name] == ["B", "job", "web", "web-x", "web/a", "web/b"]' || return 1
	c list
	expect_rc 0 || return 1
	[ -z "$ERR" ] || fail "list said on stderr: $ERR" || return 1
	# Siblings in name order, children under their parent; state, populated/empty, flags.
	[ "$(awk '{ print $1 }' <<<"$OUT" | tr '\n' ' ')" = "B job web ├─a └─b web-x " ] ||
		fail "tree order: $(awk '{ print $1 }' <<<"$OUT" | tr '\n' ' ')" || return 1
	grep -Eq '^job +active +empty +delegate auto-remove$' <<<"$OUT" || fail "job's line" || return 1
	grep -Eq '^├─a +active +empty +frozen$' <<<"$OUT" || fail "web/a's line" || return 1
	grep -Eq '^B +active +empty$' <<<"$OUT" || fail "B's line" || return 1
	c list web
	expect_rc 0 && [ "$(awk '{ print $1 }' <<<"$OUT" | tr '\n' ' ')" = "web ├─a └─b " ] ||
		fail "list web: $OUT" || return 1
	c list web/b
	expect_rc 0 && [ "$(printf '%s\n' "$OUT" | head -n 1)" = web ] || fail "list web/b: $OUT" || return 1
	c list nosuch
	expect_rc 1 && expect_err NotFound && [ -z "$OUT" ] || fail "list nosuch printed '$OUT'" || return 1
	c --json list nosuch
	expect_rc 1 && [ -z "$OUT" ] || fail "list --json nosuch printed '$OUT'" || return 1
}

test_cli_create_name_with_generate_or_prefix() {
	# create NAME --prefix P made NAME at the top, not below P, and NAME --generate dropped NAME,
	# both exit 0: one of the two is refused now (usage, exit 2), and nothing is created.
	cgt_daemon_start || return 1
	c create web
	expect_rc 0 || return 1
	c create api --prefix web
	expect_rc 2 "create NAME --prefix P" && expect_err "exclude each other" || return 1
	c create api --generate
	expect_rc 2 "create NAME --generate" && expect_err "exclude each other" || return 1
	c --json list
	expect_jq '[.[].name] == ["web"]' || fail "something was created: $(jq -c '[.[].name]' <<<"$OUT")" || return 1
	c create --prefix web
	expect_rc 0 && [[ $OUT == web/* ]] || fail "create --prefix web: '$OUT'" || return 1
}

test_cli_set_empty_value() {
	# set web cgroup.max.depth= exited 0 and changed nothing: a write(2) of no bytes never
	# reaches the kernel. The empty value goes as the empty line: the kernel refuses it here.
	cgt_daemon_start || return 1
	c create web && c set web cgroup.max.depth=3
	expect_rc 0 || return 1
	c set web cgroup.max.depth=
	expect_rc 1 "set cgroup.max.depth=" && expect_err InvalidValue && expect_err "kernel refused" || return 1
	local v
	read -r v <"$CGT_MROOT/web/cgroup.max.depth"
	[ "$v" = 3 ] || fail "web's cgroup.max.depth is '$v', want 3" || return 1
	c call SetResources '{"name": "web", "resources": {"unified": {"cgroup.max.descendants": "\n"}}}'
	expect_rc 1 "unified \"\\n\"" && expect_err InvalidValue || return 1
}

test_cli_label_keys() {
	# A label named "" was taken, and from then on every `cgctl list --json` failed with
	# "out of memory" (the CLI could not turn "=x" back into a key); one named "a=b" came
	# back as a=b=c, key "a". Both are refused now, and nothing is created.
	cgt_daemon_start || return 1
	c call Create '{"name": "web", "labels": {"": "x"}}'
	expect_rc 1 "a label named \"\"" && expect_err InvalidValue || return 1
	c call Create '{"name": "web", "labels": {"a=b": "c"}}'
	expect_rc 1 "a label named \"a=b\"" && expect_err InvalidValue || return 1
	c create web --label k=v=w
	expect_rc 0 || return 1
	c --json list
	expect_rc 0 "list --json" && expect_jq '[.[] | {name, labels}] == [{"name": "web", "labels": {"k": "v=w"}}]' || return 1
}
