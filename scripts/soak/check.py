#!/usr/bin/env python3
"""check.py - judge a finished soak run and print its summary.

    python3 scripts/soak/check.py OUT_DIR

Reads what scripts/soak/soak.py left in OUT_DIR (run.json: the servers, their
spools and their idle / settled / exit figures; clients/client-*.json: what
the load clients saw; monitor.jsonl: probes and resource samples; server
logs and, when kept, JSON Lines transcripts) and checks:

  a  every message a client saw accepted (the final 250 after the end of
     data) is in its server's spool/new exactly once, byte for byte, with its
     envelope; no message a client abandoned, saw rejected or never sent is
     there; messages whose final reply the client never read (the run
     stopped, a timeout) may be there at most once. With transcripts: the
     server's own "accepted as QUEUE-ID" events match the spool exactly.
  b  spool/tmp is empty (and no envelope/*.json.tmp is left).
  c  RSS after settling <= idle RSS * 1.5 + 8 MiB, per server.
  d  open descriptors after settling == idle count (+/- the listeners).
  e  the servers never stopped answering: every probe got its banner within
     the probe timeout, and probes ran throughout.
  f  (extra) every server exited 0 on SIGTERM; no sanitizer report; the load
     clients ended on time with no connection left open.
  g  (extra) well-behaved sessions ended as the protocol says: no timeouts,
     no unexpected replies, no dropped connections.

Writes OUT_DIR/summary.md and OUT_DIR/summary.json; exits 1 if a check
failed, 0 otherwise. Can be re-run on an old OUT_DIR.
"""
import collections
import glob
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mimic import sanitizer_report  # noqa: E402

MIB = 1024
ID_RE = re.compile(rb"^X-Soak-Id: ([^\r\n]+)\r?$", re.M | re.I)


def load_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def fmt_kib(kib):
    return "n/a" if kib is None else "%.1f MiB" % (kib / 1024.0)


class Result:
    def __init__(self):
        self.rows = []       # (check, ok, detail)
        self.notes = []

    def add(self, name, ok, detail):
        self.rows.append((name, bool(ok), detail))

    @property
    def failed(self):
        return [r for r in self.rows if not r[1]]


def scan_spool(name, spool, profile, transcript=None):
    """{soak id: [(name, path, envelope)]} of one server's spool; adds
    failures for structural problems (b, envelope pairs)."""
    found = collections.defaultdict(list)
    problems = []
    new = os.path.join(spool, "new")
    env = os.path.join(spool, "envelope")
    tmp = os.path.join(spool, "tmp")
    files = sorted(os.listdir(new)) if os.path.isdir(new) else []
    envs = set(os.listdir(env)) if os.path.isdir(env) else set()
    tmps = sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []
    leftover_env = sorted(e for e in envs if e.endswith(".tmp"))
    for fn in files:
        path = os.path.join(new, fn)
        with open(path, "rb") as f:
            head = f.read(8192)
        m = ID_RE.search(head.split(b"\r\n\r\n", 1)[0] + b"\r\n")
        sid = m.group(1).decode("utf-8", "replace") if m else None
        e = load_json(os.path.join(env, fn + ".json"))
        if e is None:
            problems.append("new/%s has no envelope" % fn)
        elif profile and e.get("profile") != profile:
            problems.append("new/%s: envelope profile %r" % (fn, e.get("profile")))
        found[sid].append((fn, path, e))
    names = set(files)
    orphans = sorted(e for e in envs if e.endswith(".json")
                     and e[:-5] not in names)
    if orphans:
        problems.append("%d envelopes without a message, e.g. %s"
                        % (len(orphans), orphans[0]))
    stats = {"files": len(files), "tmp": len(tmps),
             "envelope_tmp": len(leftover_env), "problems": problems}
    if transcript and os.path.exists(transcript):
        qids = set()
        with open(transcript, "rb") as f:
            for line in f:
                if b'"accepted as ' not in line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("dir") == "info" and ev["text"].startswith("accepted as "):
                    qids.add(ev["text"].split()[2])
        spool_qids = set()
        for lst in found.values():
            for _, _, e in lst:
                if e:
                    spool_qids.add(e.get("queue_id"))
        stats["transcript_accepted"] = len(qids)
        stats["transcript_missing_in_spool"] = sorted(qids - spool_qids)[:5]
        stats["transcript_mismatch"] = len(qids ^ spool_qids)
    return found, stats


def check(out):
    res = Result()
    run = load_json(os.path.join(out, "run.json"))
    if run is None:
        res.add("run", False, "no run.json in %s" % out)
        return res, {}
    servers = run["servers"]
    params = run.get("params", {})

    # ---------------------------------------------------------- clients --
    clients = [load_json(p) for p in
               sorted(glob.glob(os.path.join(out, "clients", "client-*.json")))]
    clients = [c for c in clients if c]
    counters = collections.Counter()
    samples = collections.defaultdict(list)
    ids = {}
    lat = collections.defaultdict(list)
    peak_open = 0
    for c in clients:
        counters.update(c["counters"])
        for k, v in c["samples"].items():
            samples[k] += v
        ids.update(c["ids"])
        for k, v in c["latency"].items():
            lat[k].append(v)
        peak_open += c["peak_open"]

    # -------------------------------------------------------------- a, b --
    by_id = collections.defaultdict(list)     # id -> [(server, fn, path, env)]
    spool_stats = {}
    unknown = []
    for name, s in servers.items():
        found, st = scan_spool(name, s["spool"], s.get("profile"),
                               s.get("transcript"))
        spool_stats[name] = st
        for sid, lst in found.items():
            for fn, path, e in lst:
                if sid is None or sid not in ids:
                    unknown.append("%s new/%s (id %r)" % (name, fn, sid))
                else:
                    by_id[sid].append((name, fn, path, e))

    state_n = collections.Counter(v[0] for v in ids.values())
    lost, dups, wrong_server, corrupt, not_ok = [], [], [], [], []
    doubt_delivered = doubt_absent = 0
    qid_mismatch = []
    for sid, (state, prof, digest, reply) in ids.items():
        where = by_id.get(sid, [])
        if len(where) > 1:
            dups.append("%s x%d (%s)" % (sid, len(where),
                                         ", ".join(w[1] for w in where)))
        if state == "accepted":
            if not where:
                lost.append("%s (%s: %s)" % (sid, prof, reply))
        elif state == "unconfirmed":
            if where:
                doubt_delivered += 1
            else:
                doubt_absent += 1
        elif where:   # vanished, partial, rejected
            not_ok.append("%s was %s but is in %s new/%s"
                          % (sid, state, where[0][0], where[0][1]))
        for name, fn, path, e in where:
            if name != prof:
                wrong_server.append("%s sent to %s, found in %s" % (sid, prof, name))
            if digest:
                with open(path, "rb") as f:
                    if hashlib.sha1(f.read()).hexdigest() != digest:
                        corrupt.append("%s new/%s" % (name, fn))
            if (state == "accepted" and e and "queued as " in reply
                    and not reply.endswith("queued as %s" % e.get("queue_id"))):
                qid_mismatch.append("%s: reply %r, envelope queue_id %r"
                                    % (sid, reply, e.get("queue_id")))
    accepted = state_n["accepted"]
    spool_total = sum(st["files"] for st in spool_stats.values())
    problems = [p for st in spool_stats.values() for p in st["problems"]]
    detail = ("%d accepted by clients, %d in spools; in doubt (end of data "
              "sent, no reply read): %d delivered, %d not; vanished %d, "
              "rejected %d, unfinished %d: none delivered"
              % (accepted, spool_total, doubt_delivered, doubt_absent,
                 state_n["vanished"], state_n["rejected"], state_n["partial"]))
    bad = []
    for label, lst in (("LOST", lost), ("DUPLICATE", dups),
                       ("UNEXPECTED (not accepted)", not_ok),
                       ("UNKNOWN id", unknown), ("WRONG SERVER", wrong_server),
                       ("CORRUPT (SHA-1 differs)", corrupt),
                       ("queue id differs", qid_mismatch),
                       ("spool structure", problems)):
        if lst:
            bad.append("%s: %d, e.g. %s" % (label, len(lst), "; ".join(lst[:3])))
    for name, st in spool_stats.items():
        if "transcript_mismatch" in st and st["transcript_mismatch"]:
            bad.append("%s: transcript 'accepted as' ids and spool differ by "
                       "%d (e.g. %s)" % (name, st["transcript_mismatch"],
                                         st["transcript_missing_in_spool"]))
    if accepted == 0:
        bad.append("no message was accepted at all")
    tr = [st["transcript_accepted"] for st in spool_stats.values()
          if "transcript_accepted" in st]
    if tr:
        detail += "; transcripts: %d 'accepted as' events = spool" % sum(tr)
    res.add("a. accepted messages in spool exactly once", not bad,
            detail + ("" if not bad else " -- " + " | ".join(bad)))

    tmp_left = {n: st["tmp"] for n, st in spool_stats.items() if st["tmp"]}
    envtmp = {n: st["envelope_tmp"] for n, st in spool_stats.items()
              if st["envelope_tmp"]}
    res.add("b. spool/tmp empty", not tmp_left and not envtmp,
            "tmp/ files left: %s; envelope/*.tmp left: %s"
            % (tmp_left or 0, envtmp or 0))

    # -------------------------------------------------------------- c, d --
    rss_bad, fd_bad, rss_txt, fd_txt = [], [], [], []
    for name, s in servers.items():
        idle, after = s.get("idle") or {}, s.get("settled") or {}
        if not idle or not after:
            rss_bad.append("%s: not measured" % name)
            fd_bad.append("%s: not measured" % name)
            continue
        limit = idle["rss"] * 1.5 + 8 * MIB
        rss_txt.append("%s %s -> %s (limit %s)" % (
            name, fmt_kib(idle["rss"]), fmt_kib(after["rss"]), fmt_kib(limit)))
        if after["rss"] > limit:
            rss_bad.append(name)
        delta = after["fds"] - idle["fds"]
        fd_txt.append("%s %d -> %d" % (name, idle["fds"], after["fds"]))
        if abs(delta) > s.get("listeners", 0):
            fd_bad.append(name)
    c_detail = "; ".join(rss_txt) + (" -- over: %s" % ", ".join(rss_bad)
                                     if rss_bad else "")
    if params.get("sanitized") and rss_bad:
        # ASan keeps freed memory in quarantine and maps shadow memory: the
        # RSS of a sanitizer build says nothing about the server's.
        rss_bad = []
        c_detail += " (sanitizer build: not judged)"
    res.add("c. RSS back near idle", not rss_bad, c_detail)
    res.add("d. no fd leaked", not fd_bad,
            "; ".join(fd_txt) + " (tolerance: +/- listeners)" +
            (" -- differs: %s" % ", ".join(fd_bad) if fd_bad else ""))

    # ---------------------------------------------------------------- e --
    probes = collections.defaultdict(list)
    peaks = collections.defaultdict(dict)
    mon = os.path.join(out, "monitor.jsonl")
    if os.path.exists(mon):
        with open(mon) as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if "probe" in ev:
                    probes[ev["probe"]].append(ev)
                elif "sample" in ev:
                    pk = peaks[ev["sample"]]
                    for k in ("rss", "hwm", "fds", "threads"):
                        pk[k] = max(pk.get(k, 0), ev.get(k, 0))
    span = run.get("monitor_seconds", 0)
    interval = params.get("probe_interval", 10)
    want = max(1, int(span / interval) - 1)
    e_bad, e_txt = [], []
    for name in servers:
        p = probes.get(name, [])
        fails = [x for x in p if not x["ok"]]
        worst = max((x.get("secs", 0) for x in p if x["ok"]), default=None)
        e_txt.append("%s %d probes, worst %s" % (
            name, len(p), "n/a" if worst is None else "%.3fs" % worst))
        if fails:
            e_bad.append("%s: %d failed, e.g. %s" % (
                name, len(fails), fails[0].get("error", fails[0])))
        if len(p) < want:
            e_bad.append("%s: only %d probes (want >= %d)" % (name, len(p), want))
    res.add("e. server always answered (banner <= %gs every %gs)"
            % (params.get("probe_timeout", 5), interval), not e_bad,
            "; ".join(e_txt) + (" -- " + " | ".join(e_bad) if e_bad else ""))

    # ---------------------------------------------------------------- f --
    f_bad = []
    for name, s in servers.items():
        if s.get("exit") != 0:
            f_bad.append("%s exited %r" % (name, s.get("exit")))
        try:
            with open(s["log"], "rb") as f:
                log = f.read().decode("utf-8", "replace")
        except OSError:
            log = ""
        marks = sanitizer_report(log)
        if marks:
            f_bad.append("%s: sanitizer report (%s) in %s" % (name, marks, s["log"]))
    if run.get("load_exit") != 0:
        f_bad.append("load client exited %r" % run.get("load_exit"))
    if len(clients) != params.get("procs", len(clients)) or not clients:
        f_bad.append("%d of %s client results" % (len(clients), params.get("procs")))
    if counters["leftover open connections"] or counters["slot crashed"]:
        f_bad.append("client: %d connections left open, %d slots crashed (%s)"
                     % (counters["leftover open connections"],
                        counters["slot crashed"], samples.get("slot crashed")))
    res.add("f. clean exits (servers 0 on SIGTERM, no sanitizer, clients)",
            not f_bad, "; ".join("%s %s" % (n, s.get("exit"))
                                 for n, s in servers.items()) +
            (" -- " + " | ".join(f_bad) if f_bad else ""))

    # ---------------------------------------------------------------- g --
    g_bad = []
    for kind in ("good", "esa", "vanish"):
        for how in ("timeout", "unexpected", "EOFError", "ConnectionResetError",
                    "ConnectionRefusedError", "BrokenPipeError", "OSError",
                    "ConnectionAbortedError", "TimeoutError"):
            n = counters["sessions %s %s" % (kind, how)]
            if n:
                g_bad.append("%s %s: %d" % (kind, how, n))
    for key in ("mute idle timeout outside window", "esa bad-command limit NOT seen"):
        if counters[key]:
            g_bad.append("%s: %d" % (key, counters[key]))
    mute_no421 = sum(v for k, v in counters.items()
                     if k.startswith("mute ") and k.endswith("closed without 421"))
    if mute_no421:
        g_bad.append("mute sessions closed without 421: %d" % mute_no421)
    sess = sum(v for k, v in counters.items()
               if k.startswith("sessions ") and k.endswith(" ok"))
    ex = []
    for k in sorted(samples):
        if k.split(" ")[0] in ("timeout", "unexpected", "error", "idle",
                               "esa", "mute"):
            ex.append("%s: %s" % (k, samples[k][0]))
    res.add("g. well-behaved sessions ended cleanly (extra)", not g_bad,
            "%d sessions completed" % sess +
            (" -- " + " | ".join(g_bad) + (" -- e.g. " + " | ".join(ex[:4])
                                           if ex else "") if g_bad else ""))

    # ------------------------------------------------------------ notes --
    secs = params.get("seconds", 0) or 1
    # The gauges are per process: their sum is the mean open sessions.
    gauge_total = sum(c["counters"].get("gauge sum", 0) /
                      max(1, c["counters"].get("gauge samples", 1))
                      for c in clients)
    steady_total = sum(c["counters"].get("steady sum", 0) /
                       max(1, c["counters"].get("steady samples", 1))
                       for c in clients)
    figures = collections.OrderedDict()
    figures["load"] = "%d sessions for %gs, %d client procs, think %g ms" % (
        params.get("sessions", 0), secs, params.get("procs", 0),
        params.get("think_ms", 0))
    figures["settled after"] = "%ss (at least %gs, at most %gs)" % (
        run.get("settle_seconds", "n/a"), params.get("settle", 0),
        params.get("settle_max", 0))
    figures["open sessions (client side)"] = (
        "mean %.0f after the ramp (%.0f overall), peak %d" % (
            steady_total, gauge_total, peak_open))
    if run.get("tcp_ext"):
        figures["SYNs dropped, accept queue full (host-wide)"] = ", ".join(
            "%s %d" % kv for kv in sorted(run["tcp_ext"].items()))
    kinds = ("good", "vanish", "mute", "garbage", "esa")
    figures["sessions completed"] = ", ".join(
        "%s %d" % (k, counters["sessions %s ok" % k]) for k in kinds)
    figures["sessions ended otherwise"] = ", ".join(
        "%s=%d" % (k[len("sessions "):], v) for k, v in sorted(counters.items())
        if k.startswith("sessions ") and not k.endswith(" ok")) or "none"
    figures["messages accepted"] = "%d (%.1f/s): %s" % (
        accepted, accepted / secs, ", ".join(
            "%s %d" % (k[len("accepted "):], v) for k, v in sorted(counters.items())
            if k.startswith("accepted ")))
    figures["vanished mid-data"] = "%d (%s)" % (
        state_n["vanished"], ", ".join(
            "%s %d" % (k[len("vanished "):], v) for k, v in sorted(counters.items())
            if k.startswith("vanished ")))
    figures["mute"] = ", ".join("%s %d" % (k[len("mute "):], v) for k, v in
                                sorted(counters.items()) if k.startswith("mute "))
    figures["garbage outcomes"] = ", ".join(
        "%s %d" % (k[len("garbage "):], v) for k, v in sorted(counters.items())
        if k.startswith("garbage ") and "->" in k) or "none"
    figures["esa"] = ", ".join("%s %d" % (k[len("esa "):], v) for k, v in
                               sorted(counters.items()) if k.startswith("esa "))
    figures["cancelled at the deadline"] = str(counters["cancelled at deadline"])
    for k in ("connect", "banner", "end of data", "tarpit", "idle timeout",
              "client loop lag"):
        if lat.get(k):
            v = lat[k]
            figures["client latency %s" % k] = "p50 %.3fs, p99 %.3fs, max %.3fs" % (
                max(x["p50"] for x in v), max(x["p99"] for x in v),
                max(x["max"] for x in v))
    srv_rows = []
    for name, s in servers.items():
        idle, after = s.get("idle") or {}, s.get("settled") or {}
        pk = peaks.get(name, {})
        p = probes.get(name, [])
        worst = max((x.get("secs", 0) for x in p if x["ok"]), default=None)
        srv_rows.append([
            name, fmt_kib(idle.get("rss")), fmt_kib(pk.get("hwm") or pk.get("rss")),
            fmt_kib(after.get("rss")),
            fmt_kib(idle["rss"] * 1.5 + 8 * MIB) if idle else "n/a",
            str(idle.get("fds", "n/a")), str(pk.get("fds", "n/a")),
            str(after.get("fds", "n/a")), str(pk.get("threads", "n/a")),
            "%d/%d" % (sum(1 for x in p if x["ok"]), len(p)),
            "n/a" if worst is None else "%.3fs" % worst,
            str(spool_stats.get(name, {}).get("files", "n/a")),
            str(s.get("exit"))])
    summary = {"out": out, "checks": [{"check": c, "ok": ok, "detail": d}
                                      for c, ok, d in res.rows],
               "servers": srv_rows, "figures": figures,
               "states": dict(state_n), "params": params,
               "passed": not res.failed}
    return res, summary


def render(res, summary):
    out = []
    out.append("# smtp-mimic soak: %s" % ("PASS" if summary.get("passed")
                                          else "FAIL"))
    out.append("")
    out.append("| check | result | detail |")
    out.append("| --- | --- | --- |")
    for c, ok, d in res.rows:
        out.append("| %s | %s | %s |" % (c, "PASS" if ok else "**FAIL**",
                                         d.replace("|", "/")))
    out.append("")
    out.append("| server | idle RSS | peak RSS | settled RSS | RSS limit | "
               "idle fds | peak fds | settled fds | threads | probes ok | "
               "worst banner | spooled | exit |")
    out.append("| " + " | ".join(["---"] * 13) + " |")
    for r in summary.get("servers", []):
        out.append("| " + " | ".join(r) + " |")
    out.append("")
    out.append("| figure | value |")
    out.append("| --- | --- |")
    for k, v in summary.get("figures", {}).items():
        out.append("| %s | %s |" % (k, str(v).replace("|", "/")))
    return "\n".join(out) + "\n"


def report(out):
    """Check, print and write the summary; 0 if every check passed."""
    res, summary = check(out)
    text = render(res, summary)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    sys.stdout.write(text)
    if res.failed:
        sys.stdout.write("soak: FAILED: %s\n" % ", ".join(r[0] for r in res.failed))
        return 1
    sys.stdout.write("soak: all checks passed (summary in %s)\n"
                     % os.path.join(out, "summary.md"))
    return 0


def main():
    return report(sys.argv[1] if len(sys.argv) > 1 else "build/soak")


if __name__ == "__main__":
    sys.exit(main())
