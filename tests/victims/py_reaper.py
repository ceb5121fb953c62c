# A Python service that forks helpers and reaps every child itself, as a
# pre-fork master does: a SIGCHLD handler reaps with os.waitpid(-1,
# WNOHANG) in a loop and records each pid, and a thread spawns /bin/true
# every 20 ms (os.posix_spawn) and records its pid. A snapshot dump's copy
# of this process must never be seen: no SIGCHLD, no pid reaped that it did
# not spawn. On SIGUSR1 it writes JSON {"spawned", "reaped", "unknown",
# "sigchld"} to the file named by argv[1] (then renames it into place).
# Prints "ready" once a child was spawned and reaped. Runs until killed.
#   usage: py_reaper.py REPORT_FILE
import json
import os
import signal
import sys
import threading
import time

report_path = sys.argv[1]
lock = threading.Lock()
spawned, reaped = set(), []
sigchld = 0


def on_sigchld(signum, frame):
    global sigchld
    sigchld += 1
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reaped.append(pid)


def on_usr1(signum, frame):
    with lock:
        known = set(spawned)
    doc = {"spawned": len(known), "reaped": len(reaped), "unknown": [p for p in reaped if p not in known], "sigchld": sigchld}
    with open(report_path + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(report_path + ".tmp", report_path)


def spawn():
    while True:
        with lock:
            spawned.add(os.posix_spawn("/bin/true", ["true"], {}))
        time.sleep(0.02)


signal.signal(signal.SIGCHLD, on_sigchld)
signal.signal(signal.SIGUSR1, on_usr1)
threading.Thread(target=spawn, daemon=True).start()
while not reaped:
    time.sleep(0.01)
print("ready", flush=True)
while True:
    time.sleep(0.1)
