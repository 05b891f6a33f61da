#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# test_varlink_check.py: the reply checker parses interface files and catches every kind of drift.

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import varlink_check as vc  # noqa: E402

REAL = [os.path.join(TOP, "protocol", f) for f in ("io.cgctl.Manager.varlink", "org.varlink.service.varlink")]

# Every kind of type the checker knows, in one small interface.
SAMPLE = """
# A comment -> with an arrow and (parentheses)
interface org.example.Test

type Color (red, green, blue)

type Inner (
  n: int,
  # Comments between fields.
  f: ?float
)

type Outer (
  b: bool,
  s: string,
  o: object,
  maybe: ?string,
  list: []Inner,
  map: [string]int,
  set: [string](),
  nested: (x: int, y: ?[]string),
  color: Color,
  mode: (on, off),
  opt: ?[]?Inner
)

method Get(name: ?string) -> (outer: Outer)
method Empty() -> ()
error Failed (message: string, code: ?int)
error Bare ()
"""


def good_outer():
    """An Outer with every field set right."""
    return {
        "b": True, "s": "x", "o": {"any": [1, "thing"]}, "maybe": None,
        "list": [{"n": 1, "f": 0.5}, {"n": -2}], "map": {"a": 1}, "set": {"k": {}},
        "nested": {"x": 3, "y": ["a"]}, "color": "green", "mode": "off", "opt": [None, {"n": 0, "f": 1}],
    }


def rec(method, reply, more=False):
    return {"method": method, "more": more, "reply": reply}


class Base(unittest.TestCase):
    def setUp(self):
        self.ifaces = {"org.example.Test": vc.parse_idl(SAMPLE)}
        self.ifaces.update(vc.load_interfaces(REAL))

    def problems(self, record):
        return vc.check_record(self.ifaces, record)

    def get_problems(self, outer):
        return self.problems(rec("org.example.Test.Get", {"parameters": {"outer": outer}}))

    def assert_one(self, found, fragment):
        self.assertEqual(len(found), 1, found)
        self.assertIn(fragment, found[0])


class TestParse(Base):
    def test_real_interfaces_parse(self):
        m = self.ifaces["io.cgctl.Manager"]
        self.assertIn("Watch", m.methods)
        self.assertIn("SystemError", m.errors)
        self.assertEqual(self.ifaces["org.varlink.service"].errors["ExpectedMore"], ("struct", []))

    def test_types(self):
        t = self.ifaces["org.example.Test"]
        fields = dict(t.types["Outer"][1])
        self.assertEqual(fields["maybe"], ("nullable", ("string",)))
        self.assertEqual(fields["list"], ("array", ("named", "Inner")))
        self.assertEqual(fields["map"], ("map", ("int",)))
        self.assertEqual(fields["mode"], ("enum", ["on", "off"]))
        self.assertEqual(t.types["Color"], ("enum", ["red", "green", "blue"]))
        self.assertEqual(t.methods["Empty"], (("struct", []), ("struct", [])))

    def test_bad_idl_refused(self):
        bad = [
            "interface a.b\ntype T (x: Missing)",
            "interface a.b\ntype T (x: int, x: int)",
            "interface a.b\ntype T (x: int)\ntype T (y: int)",
            "interface a.b\nmethod M() (x: int)",
            "interface a.b\nfrobnicate X ()",
            "interface a.b\ntype T (x: ??int)",
            "interface a.b\ntype T (x: int $)",
            "type T (x: int)",
        ]
        for text in bad:
            with self.assertRaises(vc.IdlError, msg=text):
                vc.parse_idl(text)


class TestReplies(Base):
    def test_good_reply(self):
        self.assertEqual(self.get_problems(good_outer()), [])

    def test_empty_reply_with_or_without_parameters(self):
        self.assertEqual(self.problems(rec("org.example.Test.Empty", {})), [])
        self.assertEqual(self.problems(rec("org.example.Test.Empty", {"parameters": {}})), [])
        self.assert_one(self.problems(rec("org.example.Test.Empty", {"parameters": {"x": 1}})), "Empty.x: not declared")

    def test_undeclared_field(self):
        o = good_outer()
        o["extra"] = 1
        self.assert_one(self.get_problems(o), "Get.outer.extra: not declared")

    def test_undeclared_field_in_named_type(self):
        o = good_outer()
        o["list"][1]["dropped_records"] = 0
        self.assert_one(self.get_problems(o), "Get.outer.list[1].dropped_records: not declared")

    def test_missing_field(self):
        o = good_outer()
        del o["s"]
        self.assert_one(self.get_problems(o), "Get.outer.s: missing")

    def test_nullable_may_be_absent_or_null(self):
        o = good_outer()
        del o["maybe"]
        o["opt"] = None
        self.assertEqual(self.get_problems(o), [])

    def test_null_for_non_nullable(self):
        o = good_outer()
        o["s"] = None
        self.assert_one(self.get_problems(o), "Get.outer.s: null")

    def test_exact_scalar_types(self):
        cases = [
            ("b", 1, "int, want bool"), ("b", "true", "string, want bool"),
            ("s", 5, "int, want string"), ("s", True, "bool, want string"),
            ("o", [], "array, want object"), ("o", "max", "string, want object"), ("o", 7, "int, want object"),
        ]
        for field, value, fragment in cases:
            o = good_outer()
            o[field] = value
            self.assert_one(self.get_problems(o), fragment)

    def test_int_is_not_float_string_or_bool(self):
        for value, fragment in [(1.5, "float, want int"), (1.0, "float, want int"), ("1", "string, want int"),
                                (True, "bool, want int"), (2 ** 64, "out of the 64-bit range")]:
            o = good_outer()
            o["nested"]["x"] = value
            self.assert_one(self.get_problems(o), fragment)

    def test_float_takes_numbers_only(self):
        o = good_outer()
        o["list"][0]["f"] = 2
        self.assertEqual(self.get_problems(o), [])
        o["list"][0]["f"] = "0.5"
        self.assert_one(self.get_problems(o), "string, want float")

    def test_array_and_map_elements(self):
        o = good_outer()
        o["list"] = [{"n": 1}, {"n": "2"}]
        self.assert_one(self.get_problems(o), "Get.outer.list[1].n: string, want int")
        o = good_outer()
        o["map"] = {"a": 1, "b": "max"}
        self.assert_one(self.get_problems(o), 'Get.outer.map["b"]: string, want int')
        o = good_outer()
        o["map"] = [1]
        self.assert_one(self.get_problems(o), "array, want map")
        o = good_outer()
        o["set"] = {"k": {"v": 1}}
        self.assert_one(self.get_problems(o), "not declared")

    def test_enums(self):
        o = good_outer()
        o["color"] = "purple"
        self.assert_one(self.get_problems(o), "want one of red|green|blue")
        o = good_outer()
        o["mode"] = 1
        self.assert_one(self.get_problems(o), "want one of on|off")

    def test_inline_struct(self):
        o = good_outer()
        o["nested"] = {"x": 1, "y": [1]}
        self.assert_one(self.get_problems(o), "Get.outer.nested.y[0]: int, want string")

    def test_undeclared_method_and_top_level_keys(self):
        self.assert_one(self.problems(rec("org.example.Test.Nope", {"parameters": {}})), "not declared")
        self.assert_one(self.problems(rec("org.example.Test.Empty", {"parameters": {}, "upgraded": True})),
                        "not in the Varlink message format")

    def test_continues_only_with_more(self):
        r = {"parameters": {}, "continues": True}
        self.assertEqual(self.problems(rec("org.example.Test.Empty", r, more=True)), [])
        self.assert_one(self.problems(rec("org.example.Test.Empty", r)), "continues: true on a call without more")
        self.assert_one(self.problems(rec("org.example.Test.Empty", {"continues": False}, more=True)),
                        "want true or absent")


class TestErrors(Base):
    def test_declared_error(self):
        r = {"error": "org.example.Test.Failed", "parameters": {"message": "m", "code": None}}
        self.assertEqual(self.problems(rec("org.example.Test.Get", r)), [])

    def test_error_with_undeclared_parameter(self):
        r = {"error": "org.varlink.service.InterfaceNotFound",
             "parameters": {"interface": "x.y", "message": "no interface x.y"}}
        self.assert_one(self.problems(rec("org.varlink.service.GetInterfaceDescription", r)),
                        "error InterfaceNotFound.message: not declared")

    def test_parameterless_error(self):
        ok = {"error": "org.varlink.service.ExpectedMore", "parameters": {}}
        self.assertEqual(self.problems(rec("io.cgctl.Manager.Watch", ok)), [])
        bad = {"error": "org.varlink.service.ExpectedMore", "parameters": {"field": "more", "message": "x"}}
        self.assertEqual(len(self.problems(rec("io.cgctl.Manager.Watch", bad))), 2)

    def test_error_missing_parameter(self):
        r = {"error": "io.cgctl.Manager.NotFound", "parameters": {"message": "m"}}
        self.assert_one(self.problems(rec("io.cgctl.Manager.List", r)), "error NotFound.name: missing")

    def test_undeclared_error(self):
        for name in ["io.cgctl.Manager.Oops", "org.other.Failed", "NoDots", 5]:
            r = {"error": name, "parameters": {}}
            self.assert_one(self.problems(rec("io.cgctl.Manager.List", r)), "not declared")

    def test_error_of_an_unknown_method_is_fine(self):
        r = {"error": "org.varlink.service.MethodNotFound", "parameters": {"method": "a.b.C"}}
        self.assertEqual(self.problems(rec("a.b.C", r)), [])


class TestRealShapes(Base):
    """Replies shaped like cgctld's, against the real interface."""

    def entry(self):
        return {"name": "a", "path": "/sys/fs/cgroup/a", "state": "active", "generated": False,
                "populated": None, "frozen": False, "created": 1700000000000000, "delegate": False,
                "auto_remove": False, "lease": False, "labels": {"k": "v"}}

    def test_list(self):
        r = {"parameters": {"entries": [self.entry()]}}
        self.assertEqual(self.problems(rec("io.cgctl.Manager.List", r)), [])
        e = self.entry()
        e["labels"] = {"k": 1}
        r = {"parameters": {"entries": [e]}}
        self.assert_one(self.problems(rec("io.cgctl.Manager.List", r)), 'labels["k"]: int, want string')

    def test_watch_event(self):
        ev = {"type": "frozen", "name": "a", "timestamp": 1, "details": None}
        r = {"parameters": {"event": ev}, "continues": True}
        self.assertEqual(self.problems(rec("io.cgctl.Manager.Watch", r, more=True)), [])
        ev["details"] = "x"
        self.assert_one(self.problems(rec("io.cgctl.Manager.Watch", r, more=True)), "string, want object")


class TestLogAndMain(Base):
    def run_main(self, lines):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for line in lines:
                f.write(line + "\n")
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                rc = vc.main(["varlink_check.py", f.name] + REAL)
        finally:
            os.unlink(f.name)
        return rc, out.getvalue()

    def test_main_passes_good_log(self):
        good = json.dumps(rec("org.varlink.service.GetInterfaceDescription", {"parameters": {"description": "d"}}))
        rc, out = self.run_main([good, ""])
        self.assertEqual(rc, 0, out)
        self.assertIn("1 replies checked", out)

    def test_main_fails_and_groups(self):
        bad = json.dumps(rec("io.cgctl.Manager.Attach", {"parameters": {"attached": [1, "2"]}}))
        rc, out = self.run_main([bad, bad.replace('[1, "2"]', '["3"]'), "not json"])
        self.assertEqual(rc, 1)
        self.assertIn("Attach.attached[]: string, want int (2 replies)", out)
        self.assertIn("record is not JSON", out)
        self.assertIn("2 kinds of problem", out)

    def test_main_bad_idl(self):
        with tempfile.NamedTemporaryFile("w", suffix=".varlink", delete=False) as f:
            f.write("interface a.b\ntype T (x: Nope)\n")
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                self.assertEqual(vc.main(["varlink_check.py", "/dev/null", f.name]), 2)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main(verbosity=1)
