#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The klb demo, run as root in the test guest (tools/demo.sh boots it).

Three gateways (network namespaces, klb state and a klbd each, one Raft
cluster), four backends (klb-echo, TCP and UDP) on a shared backend LAN,
and three clients, each sending through its own gateway (the way ECMP
spreads clients over gateways): short-lived TCP, long-lived TCP and UDP.

    client i ---- gateway i (klb, klbd i) ----+---- backends b1..b4
                     |  Raft LAN (bridge)     |     (backend LAN, bridge)
                  gateways 1, 2, 3 ----------+

Then: a backend dies (every gateway's health checks see it, the cluster
fails it over), comes back, the Raft leader is killed, a backend is
drained. Each step is measured and checked; a failed check ends the run
with its reason and a non-zero status.

    demo.py [--short] [--tap] [--tty COLSxROWS]

--short: shorter observation windows (the test). --tap: print the checks
as TAP. --tty: draw a full-screen display of that size (ANSI); without it
the display is plain lines.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
KLBCTL = os.path.join(ROOT, "build/userspace/klbctl/klbctl")
KLBD = os.path.join(ROOT, "build/userspace/klbd/klbd")
ECHO = os.path.join(ROOT, "build/tools/loadgen/klb-echo")
LOADGEN = os.path.join(ROOT, "build/tools/loadgen/klb-loadgen")
MODULE = os.path.join(ROOT, "kmod/klb.ko")

VIP = "203.0.113.10"
SVC = VIP + ":80"
GWS = (1, 2, 3)
# Every gateway probes every backend: a TCP connect every 250 ms, 3
# failures in a row to see it failing, 2 successes to see it healthy. Not
# tighter: in an emulated guest on a busy host a probe can stall for a
# fraction of a second, and two gateways' stalls at once would fail a live
# backend over (and break its connections). The UDP service's backends
# are the same klb-echo processes: probed over TCP too. KLB_TEST_SLOW (a
# whole factor, set by make check-debug) stretches interval and timeout for
# a kernel that runs many times slower than Debian's.
SLOW = int(os.environ.get("KLB_TEST_SLOW", "1"))
CHECK = ["check", "tcp", "interval", str(250 * SLOW), "timeout", str(250 * SLOW),
         "fall", "3", "rise", "2"]
BES = (1, 2, 3, 4)
RAFT_BR = "klbdemo-raft"
BACK_BR = "klbdemo-back"
KINDS = ("tcp", "long", "udp")


def gw_ns(i):
    return "klbdemo-gw%d" % i


def cli_ns(i):
    return "klbdemo-cl%d" % i


def be_ns(j):
    return "klbdemo-b%d" % j


def be_ep(j):
    return "198.51.100.%d:80" % (10 + j)


def be_name(j):
    return "b%d" % j


def cli_base(i):
    """Client i's /29 on its link to gateway i: .1 gateway, .2 short, .3 long."""
    return 64 + 8 * i


def long_src(i):
    return "192.0.2.%d" % (cli_base(i) + 3)


class Fail(Exception):
    pass


def now():
    return time.monotonic()


class Demo:
    def __init__(self, args):
        self.args = args
        self.short = args.short
        self.tap = args.tap
        self.tty = None
        if args.tty:
            cols, _, rows = args.tty.partition("x")
            self.tty = (max(int(cols), 60), max(int(rows), 24))
        self.start = now()
        self.lock = threading.Lock()
        self.tmp = tempfile.mkdtemp(prefix="klb-demo.")
        self.procs = []
        self.klbd = {}
        self.echo = {}
        self.loadgens = {}
        self.summaries = {}
        self.progress = []      # (time, kind, client, record)
        self.events = []        # (time, gateway, monitor record)
        self.status = {}        # gateway -> cluster status (or None)
        self.info = {}          # gateway -> klbctl info
        self.bstate = {}        # gateway -> backend show -s (tcp)
        self.narration = []
        self.checks = 0
        self.results = {}
        self.stopping = False
        self.phase = "setting up"
        self.reported = False
        self.params = {}        # module parameters changed, and their old values
        self.quiet = threading.Event()  # set: the poller holds off (a measurement runs)
        self.reason = ""

    # -- output --------------------------------------------------------

    def elapsed(self):
        return now() - self.start

    def say(self, text):
        line = "[%5.1fs] %s" % (self.elapsed(), text)
        with self.lock:
            self.narration.append(line)
        if not self.tty:
            print(("# " if self.tap else "") + line, flush=True)

    def step(self, title):
        self.phase = title
        self.say("== " + title)

    def check(self, name, ok, detail=""):
        self.checks += 1
        if self.tap:
            print("%s %d %s" % ("ok" if ok else "not ok", self.checks, name), flush=True)
            if detail and not ok:
                print("# " + detail, flush=True)
        else:
            self.say(("ok: " if ok else "FAILED: ") + name + (" (" + detail + ")" if detail and not ok else ""))
        if not ok:
            self.reported = True
            raise Fail(name + (": " + detail if detail else ""))

    # -- commands ------------------------------------------------------

    def run(self, argv, check=True, env=None, timeout=60, stdin=None):
        e = dict(os.environ)
        if env:
            e.update(env)
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                               env=e, timeout=timeout)
        except subprocess.TimeoutExpired:
            if check:
                raise Fail("%s: timed out" % " ".join(argv))
            return None
        if check and p.returncode != 0:
            raise Fail("%s: %s" % (" ".join(argv), (p.stderr or p.stdout).strip()))
        return p

    def ctl(self, i, *args, check=True, timeout=60):
        """klbctl through klbd i (writes are replicated by Raft)."""
        env = {"KLB_CONTROL_SOCKET": os.path.join(self.tmp, "c%d.sock" % i)}
        return self.run([KLBCTL] + list(args), check=check, env=env, timeout=timeout)

    def kern(self, i, *args, check=True):
        """klbctl reading gateway i's kernel."""
        env = {"KLB_CONTROL_SOCKET": os.path.join(self.tmp, "none")}
        return self.run([KLBCTL, "-n", gw_ns(i)] + list(args), check=check, env=env)

    @staticmethod
    def parsed(p):
        """A klbctl -j run's document, or None when it failed."""
        if p is None or p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout)
        except ValueError:
            return None

    def kern_json(self, i, *args):
        return self.parsed(self.kern(i, "-j", *args, check=False))

    def ctl_json(self, i, *args):
        """A read of gateway i's kernel with klbd i's health columns."""
        env = {"KLB_CONTROL_SOCKET": os.path.join(self.tmp, "c%d.sock" % i)}
        return self.parsed(self.run([KLBCTL, "-n", gw_ns(i), "-j"] + list(args),
                                    check=False, env=env))

    def cluster_status(self, i):
        return self.parsed(self.ctl(i, "-j", "cluster", "status", check=False, timeout=5))

    def spawn(self, argv, stdout=subprocess.PIPE, stderr=None):
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr or subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, text=True)
        self.procs.append(p)
        return p

    def wait_for(self, what, seconds, pred, pause=0.1):
        seconds *= SLOW
        end = now() + seconds
        while True:
            v = pred()
            if v:
                return v
            if now() > end:
                raise Fail("%s: not within %g s" % (what, seconds))
            time.sleep(pause)

    # -- set-up --------------------------------------------------------

    def batch(self, lines, ns=None):
        argv = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True), "\n".join(lines) + "\n"

    def batches(self, jobs):
        started = [(self.batch(lines, ns), ns) for ns, lines in jobs]
        for (p, text), ns in started:
            _, err = p.communicate(text)
            if p.returncode:
                raise Fail("ip -batch (%s): %s" % (ns or "root", err.strip()))

    def topology(self):
        for mod in ("veth", "bridge"):
            self.run(["modprobe", "-q", mod])
        if not os.path.exists("/sys/module/klb"):
            deps = self.run(["modinfo", "-F", "depends", MODULE]).stdout.strip()
            for dep in filter(None, deps.split(",")):
                self.run(["modprobe", dep])
            self.run(["insmod", MODULE])
        # Closed flows leave the flow tables after 5 s instead of minutes,
        # so that the flow counts show live flows and dumps stay small.
        for name in ("timeout_closing", "timeout_udp"):
            path = "/sys/module/klb/parameters/" + name
            with open(path) as f:
                self.params[path] = f.read().strip()
            with open(path, "w") as f:
                f.write("5\n")
        nss = [gw_ns(i) for i in GWS] + [cli_ns(i) for i in GWS] + [be_ns(j) for j in BES]
        root = ["netns add " + ns for ns in nss]
        for br in (RAFT_BR, BACK_BR):
            root += ["link add %s type bridge" % br, "link set %s up" % br]
        for i in GWS:
            root += ["link add kdr%d type veth peer name raft0 netns %s" % (i, gw_ns(i)),
                     "link set kdr%d master %s up" % (i, RAFT_BR),
                     "link add kdg%d type veth peer name back0 netns %s" % (i, gw_ns(i)),
                     "link set kdg%d master %s up" % (i, BACK_BR),
                     "link add cli0 netns %s type veth peer name cli0 netns %s"
                     % (cli_ns(i), gw_ns(i))]
        for j in BES:
            root += ["link add kdb%d type veth peer name back0 netns %s" % (j, be_ns(j)),
                     "link set kdb%d master %s up" % (j, BACK_BR)]
        self.batches([(None, root)])
        jobs = []
        for i in GWS:
            b = cli_base(i)
            jobs.append((gw_ns(i), [
                "link set lo up",
                "addr add 192.0.2.%d/26 dev raft0" % i, "link set raft0 up",
                "addr add 198.51.100.%d/24 dev back0" % i, "link set back0 up",
                "addr add 192.0.2.%d/29 dev cli0" % (b + 1), "link set cli0 up"]))
            jobs.append((cli_ns(i), [
                "link set lo up",
                "addr add 192.0.2.%d/29 dev cli0" % (b + 2),
                "addr add 192.0.2.%d/29 dev cli0" % (b + 3), "link set cli0 up",
                "route add default via 192.0.2.%d" % (b + 1)]))
        for j in BES:
            # Replies to client i go back through gateway i, which undoes its NAT.
            jobs.append((be_ns(j), [
                "link set lo up",
                "addr add 198.51.100.%d/24 dev back0" % (10 + j), "link set back0 up"] +
                ["route add 192.0.2.%d/29 via 198.51.100.%d" % (cli_base(i), i) for i in GWS]))
        self.batches(jobs)
        sysctls = []
        for i in GWS:
            sysctls.append(subprocess.Popen(
                ["ip", "netns", "exec", gw_ns(i), "sysctl", "-qw", "net.ipv4.ip_forward=1",
                 "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]))
        for p in sysctls:
            if p.wait():
                raise Fail("sysctl in a gateway failed")

    def cleanup(self):
        self.stopping = True
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        lines = ["netns del " + ns for ns in
                 [gw_ns(i) for i in GWS] + [cli_ns(i) for i in GWS] + [be_ns(j) for j in BES]]
        lines += ["link del " + RAFT_BR, "link del " + BACK_BR]
        subprocess.run(["ip", "-force", "-batch", "-"], input="\n".join(lines) + "\n",
                       text=True, capture_output=True)
        for path, value in self.params.items():
            with open(path, "w") as f:
                f.write(value + "\n")

    def dump_logs(self):
        for i in GWS:
            path = os.path.join(self.tmp, "log%d" % i)
            try:
                with open(path) as f:
                    tail = f.read().splitlines()[-12:]
            except OSError:
                continue
            print("# klbd %d's log (last lines):" % i)
            for line in tail:
                print("#   " + line)

    def write_conf(self, i):
        with open(os.path.join(self.tmp, "n%d.conf" % i), "w") as f:
            f.write("[node]\nid = %d\ndata-dir = %s\nkey-file = %s\ncontrol-socket = %s\n\n"
                    "[peers]\n1 = 192.0.2.1:7400\n2 = 192.0.2.2:7400\n3 = 192.0.2.3:7400\n\n"
                    "[raft]\ntick-ms = 100\nelection-ticks = 10\n"
                    % (i, os.path.join(self.tmp, "d%d" % i), os.path.join(self.tmp, "key"),
                       os.path.join(self.tmp, "c%d.sock" % i)))

    def start_klbd(self, i):
        log = open(os.path.join(self.tmp, "log%d" % i), "a")
        self.klbd[i] = self.spawn(["ip", "netns", "exec", gw_ns(i), KLBD, "-c",
                                   os.path.join(self.tmp, "n%d.conf" % i)],
                                  stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    def start_echo(self, j):
        p = self.spawn(["ip", "netns", "exec", be_ns(j), ECHO, "--id", be_name(j),
                        "-t", "0.0.0.0:80", "-u", "0.0.0.0:80"])
        self.echo[j] = p
        seen = 0
        while seen < 2:
            line = p.stdout.readline()
            if not line:
                raise Fail("klb-echo %s did not start" % be_name(j))
            seen += line.startswith("listening")
        threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()

    def leader(self, among=GWS):
        for i in among:
            s = self.cluster_status(i)
            if s and s.get("role") == "leader":
                return i, s
        return None

    # -- background readers and pollers ---------------------------------

    def read_monitor(self, i, p):
        for line in p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append((now(), i, ev))

    def read_loadgen(self, kind, i, p):
        for line in p.stdout:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                if r.get("type") == "progress":
                    self.progress.append((now(), kind, i, r))
                elif r.get("type") == "summary":
                    self.summaries[(kind, i)] = r

    def poll(self):
        while not self.stopping:
            for i in GWS:
                while self.quiet.is_set() and not self.stopping:
                    time.sleep(0.1)
                if self.stopping:
                    return
                st = self.cluster_status(i) if self.klbd[i].poll() is None else None
                info = self.kern_json(i, "info")
                bes = self.kern_json(i, "-s", "backend", "show", "tcp", SVC)
                with self.lock:
                    self.status[i] = st
                    if info:
                        self.info[i] = info
                    if bes is not None:
                        self.bstate[i] = bes
            time.sleep(1.0 if self.tty else 3.0)

    def monitor_change(self, since, ep, to_state, proto="tcp"):
        """When each gateway's kernel showed proto ep -> to_state, after since."""
        seen = {}
        want = "backend %s " % ep
        with self.lock:
            events = list(self.events)
        for t, i, ev in events:
            if t < since or i in seen or not str(ev.get("service", "")).startswith(proto):
                continue
            for c in ev.get("changes", []):
                if c.startswith(want) and c.endswith("-> " + to_state):
                    seen[i] = t
        return seen if len(seen) == len(GWS) else None

    def replies(self, kinds, since, until=None, backend=None):
        n = 0
        with self.lock:
            rows = list(self.progress)
        for t, kind, _, r in rows:
            if kind not in kinds or t < since or (until and t > until):
                continue
            b = r.get("backends", {})
            n += b.get(backend, 0) if backend else sum(b.values())
        return n

    def errors(self, kinds, since, until=None):
        n = 0
        with self.lock:
            rows = list(self.progress)
        for t, kind, _, r in rows:
            if kind in kinds and t >= since and (until is None or t <= until):
                n += r.get("errors", {}).get("total", 0)
        return n

    def error_kinds(self, kinds, since):
        """The errors of kinds since a time, by kind: 'timeout 2, reset 1'."""
        count = {}
        with self.lock:
            rows = list(self.progress)
        for t, kind, _, r in rows:
            if kind in kinds and t >= since:
                for k, v in r.get("errors", {}).items():
                    if k != "total" and v:
                        count[k] = count.get(k, 0) + v
        return ", ".join("%s %d" % kv for kv in sorted(count.items())) or "none"

    def long_flows_on(self, ep):
        """Long-lived flows (by their client addresses) on backend ep, all gateways."""
        n = 0
        for i in GWS:
            flows = self.kern_json(i, "flow", "show", "tcp", SVC, "backend", ep) or []
            n += sum(1 for f in flows if f.get("client", "").split(":")[0] == long_src(i)
                     and f.get("state") != "closed")
        return n

    def observe(self, seconds):
        time.sleep(seconds)  # pacing only: the display and the counters go on

    # -- the display ---------------------------------------------------

    def snapshot(self):
        t = now()
        with self.lock:
            recent = [(kind, r) for tt, kind, _, r in self.progress if tt > t - 2.5]
            status = dict(self.status)
            info = dict(self.info)
            bstate = dict(self.bstate)
            narration = list(self.narration)
        share = {}
        for kind in KINDS:
            counts = {}
            for k, r in recent:
                if k == kind:
                    for b, v in r.get("backends", {}).items():
                        counts[b] = counts.get(b, 0) + v
            total = sum(counts.values())
            share[kind] = {b: counts.get(b, 0) / total for b in map(be_name, BES)} if total else {}
        rate = {kind: sum(r.get("successes", 0) for k, r in recent if k == kind) / 2.5
                for kind in KINDS}
        errs = sum(r.get("errors", {}).get("total", 0) for _, r in recent)
        rows = []
        for j in BES:
            ep = be_ep(j)
            state, active = "?", 0
            for i in GWS:
                for b in bstate.get(i, []):
                    if b.get("addr") == ep:
                        state = b.get("state", state) if i == 1 else state
                        active += b.get("stats", b).get("flows_active", 0)
            rows.append("%-3s %-18s %-6s %6s %6s %6s %7d" % (
                be_name(j), ep, state,
                *("%5.1f%%" % (100 * share[k][be_name(j)]) if share[k] else "   -  " for k in KINDS),
                active))
        lead = [s for s in status.values() if s and s.get("role") == "leader"]
        cluster = ("leader gw%s, term %s" % (lead[0].get("id", lead[0].get("leader")),
                                               lead[0].get("term"))
                   if lead else "no leader")
        gws = []
        for i in GWS:
            s = status.get(i)
            role = s.get("role", "?") if s else "down"
            gws.append("gw%d  klbd %-9s applied %-6s generation %-6s flows %s" % (
                i, role, s.get("applied", "-") if s else "-",
                info.get(i, {}).get("generation", "-"), info.get(i, {}).get("flows", "-")))
        return rows, cluster, gws, rate, errs, narration

    def render_tty(self):
        cols, lines = self.tty
        rows, cluster, gws, rate, errs, narration = self.snapshot()
        out = ["klb demo: 3 gateways (klb.ko + klbd, Raft), 4 backends, 3 clients"
               "   t=%.0fs" % self.elapsed(),
               "now: " + self.phase, "",
               "backend  address            state  tcp    long   udp    active flows",
               "                                   (share of replies, last 2.5 s)"]
        out += rows
        out += ["", "traffic: %.0f conn/s short TCP, %.0f req/s long-lived TCP, %.0f req/s UDP,"
                " %d errors (last 2.5 s)" % (rate["tcp"], rate["long"], rate["udp"], errs),
                "", "cluster: " + cluster] + gws + [""]
        room = max(lines - len(out) - 1, 3)
        out += narration[-room:]
        text = "\x1b[H" + "".join(line[:cols] + "\x1b[K\n" for line in out) + "\x1b[J"
        sys.stdout.write(text)
        sys.stdout.flush()

    def render_plain(self):
        rows, cluster, gws, rate, errs, _ = self.snapshot()
        shares = "  ".join(r.split()[0] + " " + r.split()[3] for r in rows)
        print("%s[%5.1fs]   tcp %s | %.0f conn/s, %d errors | %s | gens %s" % (
            "# " if self.tap else "", self.elapsed(), shares, rate["tcp"], errs, cluster,
            " ".join(g.split()[6] for g in gws)), flush=True)

    def display(self):
        period = 1.0 if self.tty else (10.0 if self.short else 5.0)
        while not self.stopping:
            if self.tty:
                self.render_tty()
            else:
                self.render_plain()
            time.sleep(period)

    # -- the scenario --------------------------------------------------

    def setup(self):
        self.step("setting up three gateways, four backends, three clients")
        self.topology()
        with open(os.path.join(self.tmp, "key"), "w") as f:
            f.write(base64.b64encode(os.urandom(48)).decode() + "\n")
        os.chmod(os.path.join(self.tmp, "key"), 0o600)
        for i in GWS:
            self.write_conf(i)
            self.start_klbd(i)
        for i in GWS:
            p = self.spawn([KLBCTL, "-n", gw_ns(i), "-j", "monitor"])
            threading.Thread(target=self.read_monitor, args=(i, p), daemon=True).start()
        for j in BES:
            self.start_echo(j)
        t = now()
        self.wait_for("a Raft leader", 60, self.leader)
        self.say("klbd on gw1..gw3 elected a leader in %.1f s" % (now() - t))
        lead, _ = self.leader()
        via = lead % 3 + 1
        self.say("services and backends written through gw%d's klbd (a follower)" % via)
        for proto in ("tcp", "udp"):
            self.ctl(via, "service", "add", proto, SVC, "sched", "maglev", "fwd", "nat", *CHECK)
            for j in BES:
                self.ctl(via, "backend", "add", proto, SVC, be_ep(j))

        def saves_equal():
            saves = [self.kern(i, "save", check=False) for i in GWS]
            if any(s is None or s.returncode for s in saves):
                return False
            texts = [s.stdout for s in saves]
            return texts[0].count("\nbackend") + texts[0].startswith("backend") >= 8 and \
                texts.count(texts[0]) == 3
        self.wait_for("the configuration in all three kernels", 30, saves_equal, 0.3)
        self.check("all three kernels hold byte-identical configuration and Maglev tables", True)
        threading.Thread(target=self.poll, daemon=True).start()
        threading.Thread(target=self.display, daemon=True).start()

        rates = (15, 10) if self.short else (25, 15)
        for i in GWS:
            ns = ["ip", "netns", "exec", cli_ns(i), LOADGEN, "-j", "-d", "3600", "-p", "1s",
                  "-t", "3s"]
            cmds = {
                "tcp": ns + ["-c", "4", "-r", str(rates[0]), SVC],
                "long": ns + ["-l", "6", "-i", "500ms", "-s", long_src(i), SVC],
                "udp": ns + ["--udp", "-c", "2", "-r", str(rates[1]), SVC],
            }
            for kind, argv in cmds.items():
                p = self.spawn(argv)
                self.loadgens[(kind, i)] = p
                threading.Thread(target=self.read_loadgen, args=(kind, i, p),
                                 daemon=True).start()
        t = now()

        def all_serving():
            return all(self.replies(("tcp",), t, backend=be_name(j)) > 0 for j in BES) and \
                self.replies(("long",), t) > 0 and self.replies(("udp",), t) > 0
        self.wait_for("traffic through every gateway to every backend", 60, all_serving, 0.5)
        self.say("clients: short-lived TCP, 18 long-lived TCP connections, UDP; all four"
                 " backends answer")
        self.observe(3 if self.short else 6)

    def table(self):
        # Called once every kernel showed the last change (klbctl monitor):
        # a service's backends and table change in one snapshot.
        t = self.kern_json(1, "table", "show", "tcp", SVC)
        if not isinstance(t, list):
            raise Fail("klbctl table show gave no table")
        return t

    def backend_dies(self):
        self.step("1. backend b2 dies: klb-echo killed; the gateways' health checks notice")
        victim = be_ep(2)
        self.table_before = self.table()
        self.victim_long = self.long_flows_on(victim)
        self.say("b2 holds %d of 16381 table slots and %d long-lived connections"
                 % (self.table_before.count(victim), self.victim_long))
        self.quiet.set()
        t_kill = now()
        self.echo[2].kill()
        self.echo[2].wait()
        # Nobody writes anything: each klbd's probes fail, each proposes
        # its verdict, the majority's is committed and applied everywhere.
        seen = self.wait_for("b2 down in all three kernels", 20,
                             lambda: self.monitor_change(t_kill, victim, "down"), 0.05)
        t_down = max(seen.values())
        self.quiet.clear()
        self.wait_for("b2 down in the UDP service too", 20,
                      lambda: self.monitor_change(t_kill, victim, "down", "udp"), 0.1)
        self.results["failover"] = t_down - t_kill
        self.say("failover decided by the cluster: %s; all three %.0f ms after the kill" % (
            ", ".join("gw%d %.0f ms" % (i, 1000 * (seen[i] - t_kill)) for i in sorted(seen)),
            1000 * (t_down - t_kill)))
        health = self.ctl_json(1, "backend", "show", "tcp", SVC) or []
        failing = [b.get("failing_on", []) for b in health if b.get("addr") == victim]
        self.say("klbctl backend show on gw1: b2 health down, failing on gateways %s"
                 % (",".join(str(g) for g in failing[0]) if failing else "?"))
        self.check("b2 is down in every kernel", True)
        self.observe(4 if self.short else 6)
        late = self.replies(("tcp",), t_down + 2.0, backend="b2")
        self.check("no new TCP flow reaches b2 once it is down", late == 0,
                   "%d replies from b2" % late)
        self.results["failover_errors"] = self.errors(("tcp", "udp"), t_kill)
        self.say("new flows that hit b2 between its death and the failover: %d failed"
                 % self.results["failover_errors"])
        self.table_down = self.table()
        moved = sum(a != b for a, b in zip(self.table_before, self.table_down))
        had = self.table_before.count(victim)
        self.check("b2's slots moved to the others, and (almost) nothing else (%d of %d)"
                   % (moved, had), victim not in self.table_down and moved <= had + 2,
                   "%d moved, b2 had %d" % (moved, self.table_before.count(victim)))

    def backend_returns(self):
        self.step("2. b2 comes back; the health checks see it answer again")
        victim = be_ep(2)
        self.quiet.set()
        t_start = now()
        self.start_echo(2)
        seen = self.wait_for("b2 up in all three kernels", 20,
                             lambda: self.monitor_change(t_start, victim, "up"), 0.05)
        t_up = max(seen.values())
        self.quiet.clear()
        self.wait_for("b2 up in the UDP service too", 20,
                      lambda: self.monitor_change(t_start, victim, "up", "udp"), 0.1)
        self.results["restore"] = t_up - t_start
        self.say("b2 up in all three kernels %.0f ms after it answered again"
                 % (1000 * (t_up - t_start)))
        up = self.table()
        had = self.table_before.count(victim)
        back = sum(a == victim and b == victim for a, b in zip(self.table_before, up))
        same = sum(a == b for a, b in zip(self.table_before, up))
        self.results["slots"] = (back, had)
        moved = sum(a != b for a, b in zip(self.table_down, up))
        self.say("table slots back with b2: %d of the %d it had; %d of %d slots as before the"
                 " failure" % (back, had, same, len(up)))
        # klbd keeps the Maglev base table in its replicated state: with
        # nothing else changed meanwhile, b2 takes back exactly its slots
        # (Documentation/maglev.md, "Exact return").
        self.check("b2 got back all %d of its slots: the table is the one before the failure"
                   % had, back == had and same == len(up),
                   "b2 got back %d of %d, %d of %d slots as before, %d moved"
                   % (back, had, same, len(up), moved))
        self.wait_for("new flows on b2 again", 20,
                      lambda: self.replies(("tcp",), t_up + 1.0, backend="b2") > 0, 0.5)
        self.observe(3 if self.short else 5)

    def leader_killed(self):
        self.step("3. the Raft leader's klbd is killed (kill -9)")
        # A busy machine may be between leaders just now: wait for one.
        lead, st = self.wait_for("a leader before the kill", 30, self.leader, 0.2)
        term = st.get("term", 0)
        rest = [i for i in GWS if i != lead]
        self.quiet.set()
        t_kill = now()
        self.klbd[lead].kill()
        self.klbd[lead].wait()

        def new_leader():
            f = self.leader(rest)
            return f if f and f[1].get("term", 0) > term else None
        new, nst = self.wait_for("a new leader", 30, new_leader, 0.05)
        self.results["election"] = now() - t_kill
        self.quiet.clear()
        self.say("gw%d's klbd killed (leader, term %d); gw%d leads in term %d after %.0f ms"
                 % (lead, term, new, nst.get("term"), 1000 * self.results["election"]))
        self.check("a new leader is elected", True)
        self.observe(2 if self.short else 4)
        self.start_klbd(lead)
        t = now()

        def caught_up():
            s = self.cluster_status(lead)
            n = self.cluster_status(new)
            if not s or not n or s.get("leader") != new:
                return False
            if s.get("applied", -1) < n.get("applied", 0):
                return False
            gens = [(self.kern_json(i, "info") or {}).get("generation") for i in GWS]
            return gens.count(gens[0]) == 3
        self.wait_for("the restarted klbd catching up", 60, caught_up, 0.3)
        self.say("gw%d's klbd restarted, follows gw%d and caught up in %.1f s; the three"
                 " kernels hold the same generation" % (lead, new, now() - t))
        errs = self.errors(("long",), t_kill)
        self.results["leader_errors"] = self.errors(("tcp", "udp", "long"), t_kill)
        self.check("long-lived connections untouched while the leader died", errs == 0,
                   "%d failed requests: %s" % (errs, self.error_kinds(("long",), t_kill)))

    def drain(self):
        self.step("4. backend b3 is drained: its flows go on, no new ones")
        ep = be_ep(3)
        lead, _ = self.leader() or (1, None)
        n_long = self.long_flows_on(ep)
        self.quiet.set()
        t_write = now()
        self.ctl(lead, "backend", "set", "tcp", SVC, ep, "state", "drain")
        seen = self.wait_for("b3 draining in all three kernels", 15,
                             lambda: self.monitor_change(t_write, ep, "drain"), 0.05)
        t_drain = max(seen.values())
        self.quiet.clear()
        self.ctl(lead, "backend", "set", "udp", SVC, ep, "state", "drain")
        self.say("b3 draining in all three kernels %.0f ms after the write; it holds %d"
                 " long-lived connections" % (1000 * (t_drain - t_write), n_long))
        self.observe(6 if self.short else 8)
        # A connection opened just before the drain answers or times out
        # within the 3 s timeout; progress lines come a second late.
        since = t_drain + 4.0
        new = self.replies(("tcp",), since, backend="b3")
        old = self.replies(("long",), since, backend="b3")
        others = self.replies(("tcp",), since)
        self.check("no new TCP flows on b3 (%d to the others)" % others, new == 0 and others > 0,
                   "%d replies from b3, %d in all" % (new, others))
        if n_long:
            self.check("b3's long-lived connections still answered (%d replies)" % old, old > 0)
        errs = self.errors(("long",), t_drain)
        self.check("no long-lived connection broken by the drain", errs == 0,
                   "%d failed requests: %s" % (errs, self.error_kinds(("long",), t_drain)))
        self.t_end = now()

    def finish(self):
        self.step("the clients stop")
        for p in self.loadgens.values():
            p.send_signal(signal.SIGTERM)
        for (kind, i), p in self.loadgens.items():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                raise Fail("klb-loadgen (%s, client %d) did not stop" % (kind, i))
        time.sleep(0.5)
        missing = [k for k in self.loadgens if k not in self.summaries]
        if missing:
            raise Fail("no summary from klb-loadgen %s" % (missing,))

        def b3_open():
            n = 0
            for i in GWS:
                flows = self.kern_json(i, "flow", "show", "tcp", SVC, "backend", be_ep(3))
                if flows is None:
                    return None
                n += sum(f.get("state") in ("syn", "established") for f in flows)
            return n
        t = now()
        self.wait_for("b3's connections to finish", 20,
                      lambda: b3_open() == 0, 0.5)
        self.say("b3's connections finished %.1f s after the clients stopped" % (now() - t))
        s = self.summaries
        lost = sum(s[("long", i)].get("connections", {}).get("lost", 0) for i in GWS)
        opened = sum(s[("long", i)].get("connections", {}).get("opened", 0) for i in GWS)
        served = {k: sum(s[(k, i)].get("successes", 0) for i in GWS) for k in KINDS}
        failed = {k: sum(s[(k, i)].get("errors", {}).get("total", 0) for i in GWS) for k in KINDS}
        broken = lost - self.victim_long
        self.results.update(lost=lost, broken=broken, served=served, failed=failed, opened=opened)
        self.check("long-lived connections lost: only those on the dead backend"
                   " (%d lost, %d were on b2)" % (lost, self.victim_long), broken <= 0,
                   "%d connections on other backends broke" % broken)

    def summary(self):
        r = self.results
        back, had = r["slots"]
        lines = [
            "",
            "klb demo summary (%.0f s)" % self.elapsed(),
            "  failover (b2 killed -> down in all three kernels): %4.0f ms"
            % (1000 * r["failover"]),
            "  return (b2 answers -> up in all three kernels):  %4.0f ms"
            % (1000 * r["restore"]),
            "  leader election after kill -9:                %4.0f ms" % (1000 * r["election"]),
            "  table slots b2 got back:                      %d of %d" % (back, had),
            "  long-lived connections: %d opened, %d lost on the dead backend, "
            "broken elsewhere: %d" % (r["opened"], self.victim_long, max(r["broken"], 0)),
            "  new flows that failed while b2 was dead and not yet failed over: %d"
            % r["failover_errors"],
            "  failed requests while the leader was down: %d" % r["leader_errors"],
            "  traffic served: %d short-lived TCP connections, %d long-lived requests,"
            " %d UDP requests" % (r["served"]["tcp"], r["served"]["long"], r["served"]["udp"]),
        ]
        for line in lines:
            print(("# " + line) if self.tap else line, flush=True)

    def main(self):
        status = 0
        if self.tty:
            sys.stdout.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")
        try:
            self.setup()
            self.backend_dies()
            self.backend_returns()
            self.leader_killed()
            self.drain()
            self.finish()
        except Fail as e:
            status = 1
            self.reason = str(e)
        except KeyboardInterrupt:
            status = 130
            self.reason = "interrupted"
        finally:
            self.stopping = True
            if self.tty:
                time.sleep(0.2)
                sys.stdout.write("\x1b[?25h\x1b[?1049l")
                for line in self.narration:
                    print(line)
            if status:
                self.dump_logs()
            self.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)
        if status == 0:
            self.summary()
            if self.tap:
                print("1..%d" % self.checks)
            else:
                print("demo: every step did what it should")
        else:
            if self.tap:
                if not self.reported:
                    self.checks += 1
                    print("not ok %d %s" % (self.checks, self.reason))
                print("1..%d" % self.checks)
            print("demo FAILED: " + self.reason, file=sys.stderr if not self.tap else sys.stdout,
                  flush=True)
        return status


def main():
    ap = argparse.ArgumentParser(description="the klb demo scenario (root, in the test guest)")
    ap.add_argument("--short", action="store_true", help="short observation windows")
    ap.add_argument("--tap", action="store_true", help="print the checks as TAP")
    ap.add_argument("--tty", metavar="COLSxROWS", help="full-screen display of that size")
    return Demo(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
