#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
klb.ko driven through YNL's generic client (build/ynl/cli.py, see
tools/ynl-files.sh) and Documentation/netlink/specs/klb.yaml alone: create
a service, add a backend, dump services and backends and check every
value, and see a stray attribute refused. Runs as root in the test guest,
in a network namespace of its own. TAP on stdout.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "build/ynl/cli.py")
SPEC = os.path.join(ROOT, "Documentation/netlink/specs/klb.yaml")

n = 0
failed = 0


def result(ok, what):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} {what}", flush=True)
    if not ok:
        failed += 1


def ynl(*args, ok=True):
    """
    Runs cli.py; returns its exit status, its JSON output (or None) and
    everything it printed (a netlink error, extack included, goes to
    stdout).
    """
    # The schema is checked on the host (spec_test.py): jsonschema is slow
    # under emulation.
    cmd = [sys.executable, CLI, "--spec", SPEC, "--no-schema",
           "--output-json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = None
    if p.stdout.strip():
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = p.stdout
    if ok and p.returncode:
        print(f"# {' '.join(args)}: {p.stderr.strip()}")
    return p.returncode, out, p.stdout + p.stderr


SVC_KEYS = {"proto": 6, "family": 2, "addr": "c0000201", "port": 80}
SEED = "000102030405060708090a0b0c0d0e0f"
BE = {"id": 7, "family": 2, "addr": "c6336401", "port": 8080,
      "weight": 3, "state": "drain"}


def main():
    if os.environ.get("KLB_YNL_NETNS") != "1":
        os.environ["KLB_YNL_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "-n", sys.executable, *sys.argv])

    svc = dict(SVC_KEYS, sched="maglev", **{"table-size": 7}, seed=SEED,
               flags=["affinity-src"])
    rc, _, _ = ynl("--do", "service-new", "--json", json.dumps({"service": svc}))
    result(rc == 0, "service-new through the spec")

    rc, _, _ = ynl("--do", "backend-new", "--json",
                   json.dumps({"service": SVC_KEYS, "backend": BE}))
    result(rc == 0, "backend-new through the spec")

    rc, out, _ = ynl("--dump", "service-get")
    svcs = out if isinstance(out, list) else []
    s = svcs[0]["service"] if len(svcs) == 1 else {}
    want = {"proto": 6, "family": 2, "addr": "c0000201", "port": 80,
            "sched": "maglev", "table-size": 7, "seed": SEED,
            "backends": 1, "table-loaded": 0}
    bad = {k: (s.get(k), v) for k, v in want.items() if s.get(k) != v}
    if sorted(s.get("flags", [])) != ["affinity-src"]:
        bad["flags"] = (s.get("flags"), ["affinity-src"])
    for k, (got, exp) in bad.items():
        print(f"# service {k}: got {got!r}, expected {exp!r}")
    result(rc == 0 and len(svcs) == 1 and not bad and s.get("version", 0) > 0,
           "service-get dump: one service with every value sent")

    rc, out, _ = ynl("--dump", "backend-get", "--json",
                     json.dumps({"service": SVC_KEYS}))
    bes = out if isinstance(out, list) else []
    # backend is multi-attr (backend-new takes several): a list of one.
    b = bes[0]["backend"][0] if len(bes) == 1 else {}
    bad = {k: (b.get(k), v) for k, v in BE.items() if b.get(k) != v}
    for k, (got, exp) in bad.items():
        print(f"# backend {k}: got {got!r}, expected {exp!r}")
    result(rc == 0 and len(bes) == 1 and not bad and
           bes[0]["service"].get("version") == s.get("version"),
           "backend-get dump: the backend with every value sent")

    rc, out, _ = ynl("--do", "info-get")
    info = out.get("info", {}) if isinstance(out, dict) else {}
    result(rc == 0 and info.get("services") == 1 and
           out.get("generation") == 2,
           "info-get: one service, two writes")

    # Several backends in one backend-new: all of them, in one write.
    more = [dict(BE, id=i, addr=f"c63364{i:02x}", state="up")
            for i in (8, 9)]
    rc, _, _ = ynl("--do", "backend-new", "--json",
                   json.dumps({"service": SVC_KEYS, "backend": more}))
    _, out, _ = ynl("--dump", "backend-get", "--json",
                    json.dumps({"service": SVC_KEYS}))
    ids = sorted(m["backend"][0]["id"] for m in out) \
        if isinstance(out, list) else []
    _, out, _ = ynl("--do", "info-get")
    gen = out.get("generation") if isinstance(out, dict) else None
    result(rc == 0 and ids == [7, 8, 9] and gen == 3,
           "backend-new of two backends adds both in one write")

    # The spec lists what each command takes; the kernel refuses the rest.
    rc, _, err = ynl("--do", "service-del", "--json",
                     json.dumps({"service": dict(SVC_KEYS, sched="rr")}),
                     ok=False)
    result(rc != 0 and "Unsupported attribute" in err,
           "service-del with a setting in its key nest is refused")
    rc, out, _ = ynl("--dump", "service-get")
    result(rc == 0 and isinstance(out, list) and len(out) == 1,
           "the refused delete changed nothing")

    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
