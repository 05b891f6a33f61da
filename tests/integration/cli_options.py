#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cli_options.py: every option cgctl or cgctld takes is in its --help and its man page, and back.

  cli_options.py cgctl  CGCTL  docs/cgctl.1  client/ TMPDIR
  cli_options.py cgctld CGCTLD docs/cgctld.8 daemon/ TMPDIR

The candidates are every option word of the sources' getopt tables, of the
help texts and of the man page's option definitions (a section's header and
the tags of its .TP/.TQ lists, not its prose); each is tried on every command
(cgctl) or on the daemon, and taken unless the program says "unknown option"
(or getopt's "unrecognized"/"invalid option"). Prints what each takes; exits 1
naming every difference. stdlib only; one process, so the probes cost an exec
each and nothing more.
"""
import os
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--[a-zA-Z][\w-]*|-[a-zA-Z](?![\w-]))")
REFUSED = (b"unknown option", b"unrecognized option", b"invalid option")
COMMON = {"--json", "-q", "--quiet", "-h", "--help"}  # cgctl(1): every command takes them
LONG = re.compile(r'\{ "([a-z0-9-]+)", (?:no|required|optional)_argument')
SHORT = re.compile(r'(?:cli_next_opt|getopt_long)\(.*"([^"]*)"')


def words(text):
    return set(OPT.findall(text))


def run(argv, tmp):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20, cwd=tmp)


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


def check_cgctl(prog, man, src, tmp):
    lines = open(man, encoding="utf-8").read().splitlines()
    top = run([prog, "--help"], tmp).stdout.decode()
    head, _, rest = top.partition("\nCommands:\n")
    cmds = re.findall(r"^  ([a-z][a-z0-9-]*) ", rest.split("\n\n")[0], re.M)
    if not cmds:
        print("FAIL no commands in cgctl --help")
        return False
    limits_man = man_section(lines, r"\.SH LIMITS")[0]
    helps, mans = {"": words(head)}, {"": man_section(lines, r"\.SH OPTIONS")[0]}
    for c in cmds:
        helps[c] = words(run([prog, c, "--help"], tmp).stdout.decode())
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
    every = source_options(files).union(*helps.values(), *mans.values())
    # The limit options are one list in the sources: one of them stands for all.
    probe = sorted((every - limits) | {"--memory-max"})
    ok = True
    for c in [""] + cmds:
        exists = set()
        for o in probe:
            argv = [prog, o] if not c else [prog, "--socket", os.path.join(tmp, "none.sock"), c, o]
            if not any(r in run(argv, tmp).stderr for r in REFUSED):
                exists |= limits if o == "--memory-max" else {o}
        what = "cgctl " + (c or "(global)")
        print(f"+ {what}: {' '.join(sorted(exists))}")
        ok &= compare(what, exists, helps[c], "--help")
        ok &= compare(what, exists, mans[c], "cgctl(1)")
    return ok


def check_cgctld(prog, man, src, tmp):
    lines = open(man, encoding="utf-8").read().splitlines()
    helps = words(run([prog, "--help"], tmp).stdout.decode())
    mans = man_section(lines, r"\.SH OPTIONS")[0]
    every = source_options([os.path.join(src, "main.c")]) | helps | mans
    exists = set()
    for o in sorted(every):
        # Two operands after it: the daemon refuses them (exit 2) before it starts, whatever the
        # option (one may be its value); were it to start, it would find no managed root.
        argv = [prog, "--socket", os.path.join(tmp, "probe.sock"), "--state-dir", os.path.join(tmp, "probe-state"),
                "--cgroup-root", os.path.join(tmp, "no-such-cgroup"), o, "operand", "operand"]
        if not any(r in run(argv, tmp).stderr for r in REFUSED):
            exists.add(o)
    print(f"+ cgctld: {' '.join(sorted(exists))}")
    ok = compare("cgctld", exists, helps, "--help")
    return compare("cgctld", exists, mans, "cgctld(8)") and ok


def main():
    kind, prog, man, src, tmp = sys.argv[1], *map(os.path.abspath, sys.argv[2:6])
    ok = (check_cgctl if kind == "cgctl" else check_cgctld)(prog, man, src, tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
