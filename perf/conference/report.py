#!/usr/bin/env python3
"""Prints the conference comparison's Markdown table and RESULT lines from perf/conference/run.sh.

Input lines: "SERVER CASE confgen key=value ... run=N". With several runs of a server and case, the
run with the median CPU per participant-frame stands for it. Participants per core = 20,000 µs /
(CPU µs per participant per 20 ms). A load counts as sustained when loss < 0.1 %, nobody is silent and
the delay is steady (see sustained()).
Ratios: participants per core as janus/tandem (a rate, peer over Tandem), delay as tandem/janus (a
cost), so below 1 means Tandem did better.
Usage: report.py RESULTS_FILE"""
import sys

NAMES = {"janus": "Janus AudioBridge 1.1.2", "tandem": "tandem media, 1 worker"}
runs = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 4 or parts[2] != "confgen":
        continue
    values = {}
    for p in parts[3:]:
        if "=" in p:
            k, v = p.split("=", 1)
            try:
                values[k] = float(v)
            except ValueError:
                values[k] = v
    runs.setdefault((parts[1], parts[0]), []).append(values)

if not runs:
    print("No measurements.")
    sys.exit(1)

chosen = {}
for key, rows in runs.items():
    rows.sort(key=lambda r: r["cpu_us_per_participant_frame"])
    chosen[key] = rows[(len(rows) - 1) // 2]


def sustained(r):
    """Loss < 0.1 %, nobody silent, and a steady delay: the median of the window's last third within
    20 ms of the first third's, and p95 within 50 ms of p50 (an overloaded mixer's queue swings)."""
    return r["loss_pct"] < 0.1 and r["silent"] == 0 and r["delays"] > 0 and \
        abs(r["delay_last_p50_ms"] - r["delay_first_p50_ms"]) <= 20 and \
        r["delay_p95_ms"] - r["delay_p50_ms"] <= 50


print("| case | server | participants | CPU µs / participant / 20 ms | participants per core | loss % (seq gaps %) | "
      "delay p50 / p95 ms | delay p50 first → last third | sustained | generator late ticks |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
order = sorted(chosen, key=lambda k: (k[0].startswith("ramp"), k[0], k[1]))
for case, server in order:
    r = chosen[(case, server)]
    cpu = r["cpu_us_per_participant_frame"]
    per_core = 20000.0 / cpu if cpu > 0 else float("inf")
    n_runs = len(runs[(case, server)])
    print(f"| {case} | {NAMES.get(server, server)} | {int(r['participants'])} | {cpu:.1f}"
          f"{f' (median of {n_runs})' if n_runs > 1 else ''} | {per_core:.0f} | {r['loss_pct']:.3f} ({r['seq_loss_pct']:.3f}) | "
          f"{r['delay_p50_ms']:.0f} / {r['delay_p95_ms']:.0f} | {r['delay_first_p50_ms']:.0f} → {r['delay_last_p50_ms']:.0f} | "
          f"{'yes' if sustained(r) else 'NO'} | {int(r['late_ticks'])} |")
print()

for case, server in order:
    r = chosen[(case, server)]
    cpu = r["cpu_us_per_participant_frame"]
    print(f"RESULT conference.{case}.cpu_per_participant_frame.{server} {cpu:.2f} us")
    print(f"RESULT conference.{case}.participants_per_core.{server} {20000.0 / cpu if cpu > 0 else 0:.0f} participants")
    print(f"RESULT conference.{case}.loss.{server} {r['loss_pct']:.4f} %")
    print(f"RESULT conference.{case}.delay_p50.{server} {r['delay_p50_ms']:.1f} ms")
    print(f"RESULT conference.{case}.delay_p95.{server} {r['delay_p95_ms']:.1f} ms")
    if server == "tandem" and (case, "janus") in chosen:
        j = chosen[(case, "janus")]
        if cpu > 0 and j["cpu_us_per_participant_frame"] > 0:
            print(f"RESULT conference.{case}.participants_per_core.janus/tandem {cpu / j['cpu_us_per_participant_frame']:.3f}")
        if j["delay_p50_ms"] > 0:
            print(f"RESULT conference.{case}.delay_p50.tandem/janus {r['delay_p50_ms'] / j['delay_p50_ms']:.3f}")

# Ramp: per server and ramp family, the largest load that was sustained with every smaller load
# of the ramp sustained too.
families = {}
for (case, server), r in chosen.items():
    if case.startswith("ramp_"):
        families.setdefault((case.rsplit("_", 1)[0], server), []).append(r)
for (family, server), rows in sorted(families.items()):
    best = 0
    for r in sorted(rows, key=lambda r: r["participants"]):
        if not sustained(r):
            break
        best = int(r["participants"])
    print(f"RESULT conference.{family}.max_sustained_participants.{server} {best} participants")
