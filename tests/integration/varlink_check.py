#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# varlink_check.py: check recorded replies against the Varlink interface files, field for field.
#
# Usage: varlink_check.py LOG IDL...
#   LOG  lines {"method": M, "more": B, "reply": R}, as cgctld writes them when
#        $CGCTLD_TEST_REPLY_LOG names the file (daemon/replylog.c);
#   IDL  .varlink interface files (protocol/io.cgctl.Manager.varlink,
#        protocol/org.varlink.service.varlink).
# Every reply must be what the interface declares: a declared method's return
# parameters or a declared error's parameters, no undeclared field, every
# non-nullable field present, exact types (int, float, string, bool, object,
# arrays, maps, nested and named types, enums), "continues" only for "more".
# Exit 0 when every reply conforms, 1 with a summary otherwise, 2 on bad input.
# Standard library only (run with /usr/bin/python3).

import json
import re
import sys

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
PRIMITIVES = ("bool", "int", "float", "string", "object")
TOKEN_RE = re.compile(r"\s+|#[^\n]*|->|\[string\]|\[\]|[():,?]|[A-Za-z][A-Za-z0-9_.]*")


class IdlError(Exception):
    """The interface file does not parse."""


class Interface:
    """One parsed interface: named types, methods (in, out) and errors."""

    def __init__(self, name):
        self.name = name
        self.types = {}
        self.methods = {}
        self.errors = {}


def tokenize(text):
    """Split IDL text into tokens; comments and blanks dropped."""
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise IdlError("line %d: unexpected %r" % (line, text[pos:pos + 10]))
        tok = m.group(0)
        if not tok.isspace() and not tok.startswith("#"):
            out.append(tok)
        pos = m.end()
    return out


class Parser:
    """Recursive descent over the token list."""

    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise IdlError("expected %s, got %r" % (want or "a token", tok))
        self.i += 1
        return tok

    def name(self):
        tok = self.take()
        if not re.match(r"[A-Za-z][A-Za-z0-9_]*$", tok):
            raise IdlError("expected a name, got %r" % tok)
        return tok

    def struct_or_enum(self):
        """'(' fields ')' -> ('struct', [(name, type)]), '(' names ')' -> ('enum', [names])."""
        self.take("(")
        if self.peek() == ")":
            self.take()
            return ("struct", [])
        if self.peek(1) != ":":
            values = [self.name()]
            while self.peek() == ",":
                self.take()
                values.append(self.name())
            self.take(")")
            return ("enum", values)
        fields = []
        while True:
            field = self.name()
            self.take(":")
            if field in dict(fields):
                raise IdlError("field %s declared twice" % field)
            fields.append((field, self.type()))
            if self.peek() != ",":
                break
            self.take()
        self.take(")")
        return ("struct", fields)

    def type(self):
        tok = self.peek()
        if tok == "?":
            self.take()
            if self.peek() == "?":
                raise IdlError("?? is not a type")
            return ("nullable", self.type())
        if tok == "[]":
            self.take()
            return ("array", self.type())
        if tok == "[string]":
            self.take()
            return ("map", self.type())
        if tok == "(":
            return self.struct_or_enum()
        tok = self.name()
        return (tok,) if tok in PRIMITIVES else ("named", tok)


def named_refs(t):
    """Every named type t refers to."""
    kind = t[0]
    if kind == "named":
        yield t[1]
    elif kind in ("nullable", "array", "map"):
        yield from named_refs(t[1])
    elif kind == "struct":
        for _, ft in t[1]:
            yield from named_refs(ft)


def parse_idl(text):
    """Parse one interface file into an Interface; IdlError when it is not one."""
    p = Parser(tokenize(text))
    p.take("interface")
    iface = Interface(p.take())
    if not re.match(r"[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)+$", iface.name):
        raise IdlError("bad interface name %r" % iface.name)
    while p.peek() is not None:
        kw = p.take()
        name = p.name()
        if name in iface.types or name in iface.methods or name in iface.errors:
            raise IdlError("%s declared twice" % name)
        if kw == "type":
            iface.types[name] = p.struct_or_enum()
        elif kw == "method":
            args = p.struct_or_enum()
            p.take("->")
            ret = p.struct_or_enum()
            if args[0] != "struct" or ret[0] != "struct":
                raise IdlError("method %s: parameters must be structs" % name)
            iface.methods[name] = (args, ret)
        elif kw == "error":
            params = p.struct_or_enum()
            if params[0] != "struct":
                raise IdlError("error %s: parameters must be a struct" % name)
            iface.errors[name] = params
        else:
            raise IdlError("expected type, method or error, got %r" % kw)
    everything = list(iface.types.values()) + [t for m in iface.methods.values() for t in m]
    for t in everything + list(iface.errors.values()):
        for ref in named_refs(t):
            if ref not in iface.types:
                raise IdlError("unknown type %s" % ref)
    return iface


def jtype(v):
    """A JSON value's type, as a problem report names it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def check_value(iface, t, v, path, out):
    """Append to out a problem for every way v is not of type t."""
    kind = t[0]
    if kind == "nullable":
        if v is not None:
            check_value(iface, t[1], v, path, out)
        return
    if v is None:
        out.append("%s: null where %s is not nullable" % (path, kind if kind != "named" else t[1]))
        return
    if kind == "named":
        check_value(iface, iface.types[t[1]], v, path, out)
    elif kind == "bool":
        if not isinstance(v, bool):
            out.append("%s: %s, want bool" % (path, jtype(v)))
    elif kind == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            out.append("%s: %s, want int" % (path, jtype(v)))
        elif not INT64_MIN <= v <= INT64_MAX:
            out.append("%s: %d out of the 64-bit range" % (path, v))
    elif kind == "float":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            out.append("%s: %s, want float" % (path, jtype(v)))
    elif kind == "string":
        if not isinstance(v, str):
            out.append("%s: %s, want string" % (path, jtype(v)))
    elif kind == "object":
        if not isinstance(v, dict):
            out.append("%s: %s, want object" % (path, jtype(v)))
    elif kind == "enum":
        if not isinstance(v, str) or v not in t[1]:
            out.append("%s: %s, want one of %s" % (path, json.dumps(v), "|".join(t[1])))
    elif kind == "array":
        if not isinstance(v, list):
            out.append("%s: %s, want array" % (path, jtype(v)))
            return
        for i, e in enumerate(v):
            check_value(iface, t[1], e, "%s[%d]" % (path, i), out)
    elif kind == "map":
        if not isinstance(v, dict):
            out.append("%s: %s, want map" % (path, jtype(v)))
            return
        for k, e in v.items():
            check_value(iface, t[1], e, "%s[%s]" % (path, json.dumps(k)), out)
    elif kind == "struct":
        check_struct(iface, t[1], v, path, out)


def check_struct(iface, fields, v, path, out):
    """v must be an object with exactly the declared fields (nullable ones may be absent)."""
    if not isinstance(v, dict):
        out.append("%s: %s, want object" % (path, jtype(v)))
        return
    declared = dict(fields)
    for k in v:
        if k not in declared:
            out.append("%s.%s: not declared" % (path, k))
    for k, ft in fields:
        if k not in v:
            if ft[0] != "nullable":
                out.append("%s.%s: missing" % (path, k))
            continue
        check_value(iface, ft, v[k], "%s.%s" % (path, k), out)


def split_name(qualified):
    """'io.cgctl.Manager.List' -> ('io.cgctl.Manager', 'List')."""
    if not isinstance(qualified, str) or "." not in qualified:
        return None, None
    return qualified.rsplit(".", 1)


def check_record(ifaces, rec):
    """Problems with one logged reply (empty when it conforms)."""
    out = []
    if not isinstance(rec, dict) or not isinstance(rec.get("reply"), dict):
        return ["record is not {method, more, reply}"]
    method, more, reply = rec.get("method"), rec.get("more") is True, rec["reply"]
    for k in reply:
        if k not in ("parameters", "continues", "error"):
            out.append("reply key %r not in the Varlink message format" % k)
    if "continues" in reply and reply["continues"] is not True:
        out.append("continues: %s, want true or absent" % json.dumps(reply["continues"]))
    if reply.get("continues") is True and not more:
        out.append("continues: true on a call without more")
    params = reply.get("parameters", {})
    if "error" in reply:
        iname, ename = split_name(reply["error"])
        iface = ifaces.get(iname)
        if not iface or ename not in iface.errors:
            return out + ["error %s: not declared" % json.dumps(reply["error"])]
        check_struct(iface, iface.errors[ename][1], params, "error " + ename, out)
        return out
    iname, mname = split_name(method)
    iface = ifaces.get(iname)
    if not iface or mname not in iface.methods:
        return out + ["method %s: a successful reply to a method not declared" % json.dumps(method)]
    check_struct(iface, iface.methods[mname][1][1], params, mname, out)
    return out


def load_interfaces(paths):
    """Parse every file; {interface name: Interface}."""
    ifaces = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            try:
                iface = parse_idl(f.read())
            except IdlError as e:
                raise IdlError("%s: %s" % (path, e)) from None
        ifaces[iface.name] = iface
    return ifaces


def check_log(ifaces, lines):
    """(records checked, {(method, problem): [count, example]}) over an iterable of log lines."""
    n, problems = 0, {}
    for line in lines:
        if not line.strip():
            continue
        n += 1
        try:
            rec = json.loads(line)
        except ValueError as e:
            found = ["record is not JSON: %s" % e]
            rec = {}
        else:
            found = check_record(ifaces, rec)
        method = rec.get("method") if isinstance(rec, dict) else None
        for p in found:
            # Array indexes and map keys vary from reply to reply: one line per kind of problem.
            key = (str(method), re.sub(r"\[[^\]]*\]", "[]", p))
            slot = problems.setdefault(key, [0, line.strip()[:400]])
            slot[0] += 1
    return n, problems


def main(argv):
    if len(argv) < 3:
        print("usage: varlink_check.py LOG IDL...", file=sys.stderr)
        return 2
    try:
        ifaces = load_interfaces(argv[2:])
        with open(argv[1], encoding="utf-8", errors="replace") as f:
            n, problems = check_log(ifaces, f)
    except (OSError, IdlError) as e:
        print("varlink_check: %s" % e, file=sys.stderr)
        return 2
    for (method, problem), (count, example) in sorted(problems.items()):
        print("%s: %s (%d repl%s), e.g. %s" % (method, problem, count, "y" if count == 1 else "ies", example))
    print("%d replies checked against %s: %d kind%s of problem" %
          (n, ", ".join(sorted(ifaces)), len(problems), "" if len(problems) == 1 else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
