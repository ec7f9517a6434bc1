#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Documentation/netlink/specs/klb.yaml against the genetlink schema of YNL
(build/ynl/genetlink.yaml, see tools/ynl-files.sh) and against the UAPI
header: every attribute, command and enum value the spec implies (YNL
numbers them in order) must be the header's. TAP on stdout.
"""

import os
import re
import sys

import jsonschema
import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = os.path.join(ROOT, "Documentation/netlink/specs/klb.yaml")
SCHEMA = os.path.join(ROOT, "build/ynl/genetlink.yaml")
HEADER = os.path.join(ROOT, "include/uapi/linux/klb.h")

n = 0
failed = 0


def result(ok, what):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} {what}")
    if not ok:
        failed += 1


def c_name(prefix, name):
    return (prefix + name).upper().replace("-", "_")


def header_enums(text):
    """Every enumerator of the header with its value."""
    values = {}
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for body in re.findall(r"enum\s+\w+\s*{(.*?)}", text, re.S):
        nxt = 0
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            m = re.match(r"(\w+)\s*(?:=\s*(.+))?$", item)
            if not m:
                continue
            if m.group(2):
                expr = m.group(2).replace("<<", " << ")
                nxt = eval(expr, {}, dict(values))  # the header's own constants
            values[m.group(1)] = nxt
            nxt += 1
    for name, val in re.findall(r"#define\s+(KLB_\w+)\s+(\d+)\b", text):
        values[name] = int(val)
    return values


def main():
    spec = yaml.safe_load(open(SPEC))
    schema = yaml.safe_load(open(SCHEMA))
    try:
        jsonschema.validate(spec, schema)
        result(True, "klb.yaml is valid against genetlink.yaml")
    except jsonschema.ValidationError as e:
        print(f"# {e.message} at {list(e.absolute_path)}")
        result(False, "klb.yaml is valid against genetlink.yaml")

    hdr = header_enums(open(HEADER).read())
    mismatches = []

    def expect(name, value):
        if hdr.get(name) != value:
            mismatches.append(f"{name}: spec {value}, header {hdr.get(name)}")

    for d in spec.get("definitions", []):
        if d["type"] == "const":
            expect(c_name("klb-", d["name"]), d["value"])
            continue
        prefix = {"sched": "klb-sched-", "fwd": "klb-fwd-",
                  "backend-state": "klb-backend-",
                  "service-flags": "klb-svc-f-",
                  "flow-state": "klb-flow-"}[d["name"]]
        for i, e in enumerate(d["entries"]):
            value = 1 << i if d["type"] == "flags" else i
            expect(c_name(prefix, e), value)
    for s in spec["attribute-sets"]:
        for i, a in enumerate(s["attributes"], start=1):
            expect(c_name(s["name-prefix"], a["name"]), a.get("value", i))
    prefix = spec["operations"]["name-prefix"]
    for i, op in enumerate(spec["operations"]["list"], start=1):
        expect(c_name(prefix, op["name"]), op.get("value", i))
    for m in mismatches:
        print(f"# {m}")
    result(not mismatches, "every value of the spec is the header's")

    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
