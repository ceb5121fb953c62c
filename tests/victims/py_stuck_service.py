# A stuck service for the benchmarks: 26 threads, like the incident's.
#
# usage: python3 py_stuck_service.py [READY_FILE [RESIDENT_MIB]]
#
# One worker spins forever in a `while` loop around enumerate() (the bug of
# INCIDENT.md), 24 workers wait on a lock that is never released, and the
# main thread waits for them. Writes READY_FILE ("ready\n") once every
# worker is parked (Python 2.7 and 3.x syntax). With RESIDENT_MIB, it first
# fills that many MiB of heap with non-zero bytes (a service's caches, for
# the core-file benchmark).
import os
import sys
import threading
import time

resident_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 0
block = bytearray(os.urandom(1 << 20))
cache = [bytearray(block) for _ in range(resident_mib)]

never_released = threading.Lock()
never_released.acquire()
started = threading.Semaphore(0)


def find_anchor(anchors, wanted):
    index = 0
    while index < len(anchors):  # spin: stuck
        for position, anchor in enumerate(anchors):  # spin: stuck
            if anchor == wanted:  # spin: stuck
                index = position  # spin: stuck
    return index


def spinning_worker():
    started.release()
    find_anchor(list(range(8)), 3)


def blocked_worker():
    started.release()
    never_released.acquire()  # park: blocked


# The blocked workers park first, while nothing competes for the GIL; the
# spinner starts last. (Started the other way round, a worker can still be
# between `started.release()` and its `acquire()` a long time later: the
# spinner hands the GIL to one of 25 waiters every 5 ms.)
blocked = [threading.Thread(target=blocked_worker, name="worker-%d" % k) for k in range(24)]
spinner = threading.Thread(target=spinning_worker, name="spinner")
threads = [spinner] + blocked
for group in (blocked, [spinner]):
    for thread in group:
        thread.daemon = True
        thread.start()
    for _ in group:
        started.acquire()
    time.sleep(0.1)
if len(sys.argv) > 1:
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
for thread in threads:
    thread.join()  # park: main
