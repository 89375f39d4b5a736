#!/usr/bin/env python3
"""Prints the CPU seconds (user + system) used so far by a process and all its descendants.
Usage: cpu_seconds.py PID"""
import os
import sys

ticks = os.sysconf("SC_CLK_TCK")
root = int(sys.argv[1])
children = {}
stats = {}
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/stat") as f:
            data = f.read()
    except OSError:
        continue
    # The command name may contain spaces; fields resume after the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    pid, ppid = int(entry), int(fields[1])
    children.setdefault(ppid, []).append(pid)
    stats[pid] = int(fields[11]) + int(fields[12])  # utime, stime
total, stack = 0, [root]
while stack:
    pid = stack.pop()
    total += stats.get(pid, 0)
    stack.extend(children.get(pid, []))
print(f"{total / ticks:.3f}")
