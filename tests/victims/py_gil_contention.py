# A Python victim where threads contend for the GIL (runs on 2.7 and every 3.x).
#
# usage: python py_gil_contention.py READY_FILE
#
# Three threads run pure-Python loops (spin_a, spin_b, spin_c): at any
# moment one of them holds the GIL and the others wait for it (blocked in
# futex() on the GIL's condition or mutex, 3.7+), or are between two waits.
# One thread sleeps in time.sleep() and one waits on a threading.Lock:
# both have let go of the GIL and wait for something else. The main thread
# writes READY_FILE ("ready\n") once all five run, then joins them.
import os
import sys
import threading
import time

ready_path = sys.argv[1]
started = []
started_lock = threading.Lock()
held = threading.Lock()
held.acquire()


def mark(name):
    with started_lock:
        started.append(name)


def spin(name):
    mark(name)
    counter = 0
    while True:
        counter += 1


def spin_a():
    spin("spin_a")


def spin_b():
    spin("spin_b")


def spin_c():
    spin("spin_c")


def sleeper():
    mark("sleeper")
    while True:
        time.sleep(3600)


def locked():
    mark("locked")
    held.acquire()


threads = [threading.Thread(target=f) for f in (spin_a, spin_b, spin_c, sleeper, locked)]
for t in threads:
    t.daemon = True
    t.start()
while True:
    with started_lock:
        if len(started) == len(threads):
            break
    time.sleep(0.01)
time.sleep(0.2)  # let the sleeper and the locked thread reach their waits
with open(ready_path + ".tmp", "w") as f:
    f.write("ready\n")
os.rename(ready_path + ".tmp", ready_path)
for t in threads:
    while t.is_alive():
        t.join(3600)
