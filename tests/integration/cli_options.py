#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cli_options.py: every option cgctl or cgctld takes is in its --help and its man page, and back.

  cli_options.py cgctl  CGCTL  docs/cgctl.1  client/ TMPDIR [SPY]
  cli_options.py cgctld CGCTLD docs/cgctld.8 daemon/ TMPDIR [SPY]

The candidates are every option word of the sources' getopt tables, of the
help texts and of the man page's option definitions (a section's header and
the tags of its .TP/.TQ lists, not its prose). What a parser (cgctl's global
one, each command's, the daemon's) takes is read from the table it hands
getopt_long(), which SPY (getopt_spy.so, preloaded into the --help exec)
writes down: every word of the table and every candidate getopt would take
by glibc's rules (exact names, unambiguous abbreviations, the short option
string). Then the program itself must agree, in a few execs a parser: every
option the table takes, on one command line ending in a candidate the table
does not take, gets "unknown option" for that candidate only (the options that
need a value on a line of their own, each with "1", halved where "1" is
refused, down to one option a line); -h, --help and --version, which act at
once, an exec each. Where the program disagrees, or without SPY, each
candidate is tried on its own (an exec each: 1624 of them, 900 once the short
option strings were read right) and taken unless the program says "unknown
option" (or getopt's "unrecognized"/"invalid option"). Prints what each takes
and how many execs it took; exits 1 naming every difference. stdlib only.
"""
import os
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--[a-zA-Z][\w-]*|-[a-zA-Z](?![\w-]))")
REFUSED = (b"unknown option", b"unrecognized option", b"invalid option")
COMMON = {"--json", "-q", "--quiet", "-h", "--help"}  # cgctl(1): every command takes them
ACT_AT_ONCE = {"-h", "--help", "--version"}  # they print and exit: the rest of a command line is not read
LONG = re.compile(r'\{ "([a-z0-9-]+)", (?:no|required|optional)_argument')
# The first string of the call: its short options (not a string further down the file).
SHORT = re.compile(r'(?:cli_next_opt|getopt_long)\([^;"]*"([^"]*)"')
NO_SUCH = "--cgctl-no-such-option"
EXECS = [0]
SEEN = {}


def words(text):
    return set(OPT.findall(text))


def run(argv, tmp, spy=None):
    """Run argv (once: the same command line is answered from memory); with spy, write its tables there."""
    key = tuple(argv)
    if key in SEEN and not spy:
        return SEEN[key]
    env = None
    if spy:
        # A sanitizer build wants its runtime first of the libraries: let it be second.
        asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
        env = dict(os.environ, LD_PRELOAD=spy[0], CGCTL_GETOPT_SPY=spy[1], ASAN_OPTIONS=asan)
    EXECS[0] += 1
    SEEN[key] = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20, cwd=tmp,
                               close_fds=False, env=env)
    return SEEN[key]


def refused(res):
    return any(r in res.stderr for r in REFUSED)


def help_and_table(argv, tmp, spy):
    """argv's output (a --help) and the last option table it handed getopt_long(), None without one."""
    if not spy:
        return run(argv, tmp), None
    out = os.path.join(tmp, "getopt-spy.out")
    if os.path.exists(out):
        os.unlink(out)
    res = run(argv, tmp, (spy, out))
    table = None
    try:
        with open(out, encoding="utf-8") as f:
            for line in f.read().splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "table":
                    table = (rest, {})
                elif kind == "long" and table:
                    name, has_arg, flag, val = rest.split()
                    table[1][name] = (int(has_arg), flag, val)
    except FileNotFoundError:
        pass
    return res, table


def takes(table, word):
    """Whether getopt_long() takes word with table: an exact or unambiguous long name, a short option."""
    short, longs = table
    if not word.startswith("--"):
        return word[1] in short.lstrip("+-").replace(":", "")
    name = word[2:]
    return name in longs or len({v for n, v in longs.items() if n.startswith(name)}) == 1


def needs_value(table, word):
    """Whether word (which table takes) needs a value in the next argument."""
    short, longs = table
    if word.startswith("--"):
        name = word[2:]
        v = longs.get(name) or next(v for n, v in longs.items() if n.startswith(name))
        return v[0] == 1
    i = short.index(word[1])
    return short[i + 1:i + 2] == ":" and short[i + 1:i + 3] != "::"


def table_words(table):
    short, longs = table
    return {"--" + n for n in longs} | {"-" + ch for ch in short if ch.isalnum()}


def one_by_one(argv_of, cands, tmp):
    """The candidates the program takes, one exec each: all but those it says it does not know."""
    return {o for o in sorted(cands) if not refused(run(argv_of([o]), tmp))}


def agrees(argv_of, table, taken, others, tmp):
    """Whether the program takes what table says it takes (but for stand-ins), and refuses one of the others."""
    # The refused candidate that ends the line: another one for each parser.
    nos = sorted(o for o in others if o.startswith("--")) or [NO_SUCH]
    no = nos[EXECS[0] % len(nos)]
    plain = [o for o in sorted(taken) if o not in ACT_AT_ONCE and not needs_value(table, o)]
    valued = [o for o in sorted(taken) if o not in ACT_AT_ONCE and needs_value(table, o)]

    def says_unknown(line):
        res = run(argv_of(line + [no]), tmp)
        return refused(res) and f"'{no}'".encode() in res.stderr

    def valued_taken(opts):
        # All at once with "1" for values, halves where a value is refused (--max-ledger-size 1), one at a
        # time from two on (no value: "needs an argument").
        if len(opts) <= 2:
            return not any(refused(run(argv_of([o]), tmp)) for o in opts)
        if says_unknown([w for o in opts for w in (o, "1")]):
            return True
        return valued_taken(opts[:len(opts) // 2]) and valued_taken(opts[len(opts) // 2:])

    if not says_unknown(plain) or (valued and not valued_taken(valued)):
        return False
    return not any(refused(run(argv_of([o]), tmp)) for o in sorted(taken & ACT_AT_ONCE))


def options_taken(argv_of, cands, tmp, spy, what, stand_ins=frozenset()):
    """What the parser that reads argv_of(words) takes of the candidates and its table's words, and its help.

    The program is not asked about stand_ins: another option stands for them (its table is still read)."""
    res, table = help_and_table(argv_of(["--help"]), tmp, spy)
    if table:
        cands = cands | table_words(table)
        taken = {o for o in cands if takes(table, o)}
        if agrees(argv_of, table, taken - stand_ins, cands - taken, tmp):
            return taken, res
        print(f"+ {what}: the program and its getopt table disagree: each option tried on its own")
    elif spy:
        print(f"+ {what}: no getopt table from {spy}: each option tried on its own")
    return one_by_one(argv_of, cands - stand_ins, tmp), res


def man_section(lines, head):
    """Options a man page section defines (header and .TP/.TQ tags), and whether it refers to LIMITS."""
    out, on, tag, limits = set(), False, False, False
    for raw in lines:
        line = raw.replace("\\-", "-")
        if not on:
            if re.match(head, line):
                on = True
                out |= words(line)
            continue
        if line.startswith((".SS ", ".SH ")):
            break
        if tag:
            out |= words(line)
            tag = False
        if re.match(r"\.T[PQ]", line):
            tag = True
        limits |= "LIMITS" in line
    return out, limits


def source_options(paths):
    """Long options of the getopt tables and short ones of the option strings in paths."""
    opts = set()
    for p in paths:
        with open(p, encoding="utf-8") as f:
            text = f.read()
        opts |= {"--" + n for n in LONG.findall(text)}
        for s in SHORT.findall(text):
            opts |= {"-" + ch for ch in s if ch.isalnum()}
    return opts


def compare(what, exists, documented, where):
    """Say what one side has and the other lacks; False on a difference."""
    ok = True
    if exists - documented:
        print(f"FAIL {what}: {where} does not document {' '.join(sorted(exists - documented))}")
        ok = False
    if documented - exists:
        print(f"FAIL {what}: {where} documents {' '.join(sorted(documented - exists))}, which it does not take")
        ok = False
    return ok


def check_cgctl(prog, man, src, tmp, spy):
    lines = open(man, encoding="utf-8").read().splitlines()
    top = run([prog, "--help"], tmp).stdout.decode()
    head, _, rest = top.partition("\nCommands:\n")
    cmds = re.findall(r"^  ([a-z][a-z0-9-]*) ", rest.split("\n\n")[0], re.M)
    if not cmds:
        print("FAIL no commands in cgctl --help")
        return False
    limits_man = man_section(lines, r"\.SH LIMITS")[0]
    mans = {"": man_section(lines, r"\.SH OPTIONS")[0]}
    for c in cmds:
        m, lim = man_section(lines, r'\.SS "%s[ "]' % re.escape(c))
        mans[c] = m | (limits_man if lim else set()) | COMMON
    files = [os.path.join(src, f) for f in sorted(os.listdir(src))
             if f == "cgctl.c" or (f.startswith("cli") and f.endswith((".c", ".h")))]
    with open(os.path.join(src, "cli.h"), encoding="utf-8") as f:
        block = re.search(r"#define CLI_LIMIT_LONGOPTS(.*?[^\\])\n", f.read(), re.S)
    limits = {"--" + n for n in LONG.findall(block.group(1))} if block else set()
    if not limits:
        print("FAIL no CLI_LIMIT_LONGOPTS in cli.h")
        return False
    every = source_options(files).union(words(top), *mans.values())
    ok = True
    for c in [""] + cmds:
        def argv_of(opts, c=c):
            return [prog, *opts] if not c else [prog, "--socket", os.path.join(tmp, "none.sock"), c, *opts]
        what = "cgctl " + (c or "(global)")
        # The limit options are one list in the sources: one of them stands for all.
        exists, res = options_taken(argv_of, every, tmp, spy, what, limits - {"--memory-max"})
        if "--memory-max" in exists:
            exists |= limits
        helps = words(head) if not c else words(res.stdout.decode())
        print(f"+ {what}: {' '.join(sorted(exists))}")
        ok &= compare(what, exists, helps, "--help")
        ok &= compare(what, exists, mans[c], "cgctl(1)")
    return ok


def check_cgctld(prog, man, src, tmp, spy):
    lines = open(man, encoding="utf-8").read().splitlines()
    mans = man_section(lines, r"\.SH OPTIONS")[0]

    def argv_of(opts):
        # Two operands after them: the daemon refuses them (exit 2) before it starts, whatever the
        # options (one may be a value); were it to start, it would find no managed root.
        return [prog, "--socket", os.path.join(tmp, "probe.sock"), "--state-dir", os.path.join(tmp, "probe-state"),
                "--cgroup-root", os.path.join(tmp, "no-such-cgroup"), *opts, "operand", "operand"]
    helps = words(run([prog, "--help"], tmp).stdout.decode())
    every = source_options([os.path.join(src, "main.c")]) | helps | mans
    exists, _ = options_taken(argv_of, every, tmp, spy, "cgctld")
    print(f"+ cgctld: {' '.join(sorted(exists))}")
    ok = compare("cgctld", exists, helps, "--help")
    return compare("cgctld", exists, mans, "cgctld(8)") and ok


def main():
    kind, prog, man, src, tmp = sys.argv[1], *map(os.path.abspath, sys.argv[2:6])
    spy = os.path.abspath(sys.argv[6]) if len(sys.argv) > 6 and os.path.isfile(sys.argv[6]) else None
    ok = (check_cgctl if kind == "cgctl" else check_cgctld)(prog, man, src, tmp, spy)
    print(f"+ {EXECS[0]} execs")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
