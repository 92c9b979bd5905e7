#!/usr/bin/env python3
"""Time `husk browse` to its first full screen against `husk layers` and `husk ls -R` (and
optionally `dive --ci`) in alternating rounds, so every command sees the same machine load.

husk browse runs on a pseudo-terminal (80x24) this script owns: no tmux server and no
polling. Its first full screen is the moment the bytes of the image's efficiency line
(drawn once every layer is read) come out of the terminal; then `q` is sent. The script
answers the one terminal query (the cursor position) as a terminal would. The other
commands are timed from spawn to exit, each in a session of its own like husk browse on its
pty (the scheduler's autogroups give every session the same share of a loaded machine). For each command the script also takes the CPU time
(user + system) and the peak RSS of the process from wait4(2), so the CPU ratio holds even
when the cores are shared.

Usage: browse_rounds.py RUNS WARMUP OUT.json HUSK IMAGE [DIVE DOCKER_ARCHIVE]
Prints a markdown table of medians and the medians of the per-round ratios.
"""
import fcntl
import json
import os
import select
import statistics
import struct
import subprocess
import sys
import termios
import time

NEEDLE = b"efficiency "
LIMIT_S = 300


def browse(husk: str, image: str) -> dict:
    """husk browse IMAGE on a new 80x24 pty: seconds to the first full screen, CPU, RSS."""
    start = time.perf_counter()
    pid, fd = os.forkpty()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = dict(os.environ, TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        os.execve(husk, [husk, "browse", image], env)
    screen = None
    tail = b""
    deadline = start + LIMIT_S
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            os.kill(pid, 9)
            sys.exit("browse_rounds.py: husk browse showed no first screen in time")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        if b"\x1b[6n" in chunk:
            # The cursor position query (ratatui asks once at the start): answered as a
            # terminal does.
            os.write(fd, b"\x1b[1;1R")
        if screen is None:
            tail = (tail + chunk)[-(len(chunk) + len(NEEDLE)):]
            if NEEDLE in tail:
                screen = time.perf_counter() - start
                os.write(fd, b"q")
    _, status, usage = os.wait4(pid, 0)
    os.close(fd)
    if screen is None or os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"browse_rounds.py: husk browse ended with status {status} before its first screen")
    return {"wall": screen, "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss}


def command(argv: list) -> dict:
    """argv run to its end with stdout to /dev/null: wall seconds, CPU, peak RSS."""
    start = time.perf_counter()
    # A session of its own, as husk browse has on its pty: with the kernel's scheduler
    # autogroups each session gets its own share of the CPU, so all sides get the same.
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"browse_rounds.py: {argv} failed with exit code {p.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss}


def main() -> None:
    runs, warmup, out, husk, image = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    cmds = {
        "husk browse (first full screen)": lambda: browse(husk, image),
        "husk layers": lambda: command([husk, "layers", image]),
        "husk ls -R": lambda: command([husk, "ls", "-R", image]),
    }
    if len(sys.argv) > 7:
        dive, archive = sys.argv[6], sys.argv[7]
        cmds["dive --ci (docker-archive)"] = lambda: command(
            [dive, "--ci", "--source", "docker-archive", archive])
    got = {name: [] for name in cmds}
    for rnd in range(warmup + runs):
        for name, run in cmds.items():
            r = run()
            if rnd >= warmup:
                got[name].append(r)
    med = lambda name, key: statistics.median(r[key] for r in got[name])
    print("| command | wall (median) | CPU (median) | peak RSS (max) |")
    print("|:---|---:|---:|---:|")
    for name in cmds:
        rss = max(r["rss_kib"] for r in got[name]) / 1024
        print(f"| `{name}` | {med(name, 'wall'):.3f} s | {med(name, 'cpu'):.3f} s | {rss:.1f} MiB |")
    b, l, ls = got["husk browse (first full screen)"], got["husk layers"], got["husk ls -R"]
    ratio = lambda key: statistics.median(x[key] / y[key] for x, y in zip(b, l))
    rss = max(x["rss_kib"] for x in b) / max(y["rss_kib"] for y in ls)
    print(f"\nbrowse / layers, median of per-round ratios: wall {ratio('wall'):.3f}x,"
          f" CPU {ratio('cpu'):.3f}x; browse / ls -R peak RSS: {rss:.2f}x ({runs} rounds)")
    with open(out, "w") as f:
        json.dump({"runs": runs, "results": got}, f)


if __name__ == "__main__":
    main()
