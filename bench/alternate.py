#!/usr/bin/env python3
"""Run shell commands in alternating rounds (A B C, A B C, ...) so that every command sees
the same machine load, and report per-command medians plus the median of per-round ratios.

Usage: alternate.py RUNS WARMUP OUT.json NAME CMD [NAME CMD ...]
Prints a markdown table; writes {"results": [{"command", "times", "median", "min", "max"}]}.
Ratios against another command are computed by the caller from the per-round times (same
index = same round). Each command starts after `sync` (not timed), so the dirty pages one
command leaves (podman's storage, a written layout) are not written back during the
next one's timing."""
import json
import statistics
import subprocess
import sys
import time


def main() -> None:
    runs, warmup, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    args = sys.argv[4:]
    if len(args) % 2:
        sys.exit("alternate.py: NAME CMD pairs expected")
    cmds = list(zip(args[::2], args[1::2]))
    times = {name: [] for name, _ in cmds}
    for rnd in range(warmup + runs):
        for name, cmd in cmds:
            subprocess.run(["sync"], check=False)
            t = time.perf_counter()
            r = subprocess.run(["bash", "-c", cmd], stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t
            if r.returncode != 0:
                sys.exit(f"alternate.py: {name!r} failed with exit code {r.returncode}: {cmd}")
            if rnd >= warmup:
                times[name].append(dt)
    results = []
    print("| Command | Median [ms] | Min [ms] | Max [ms] |")
    print("|:---|---:|---:|---:|")
    for name, _ in cmds:
        t = times[name]
        med = statistics.median(t)
        results.append({"command": name, "times": t, "median": med, "min": min(t), "max": max(t)})
        print(f"| `{name}` | {med * 1e3:.1f} | {min(t) * 1e3:.1f} | {max(t) * 1e3:.1f} |")
    with open(out, "w") as f:
        json.dump({"runs": runs, "results": results}, f)


if __name__ == "__main__":
    main()
