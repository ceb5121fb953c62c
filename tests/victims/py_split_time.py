# A victim with a known split of its time: heavy() spins 6 ms, light() 2 ms,
# in turn, forever, on one thread (a profile should give them 3:1). A second
# thread sleeps (idle: left out of a profile of threads on a CPU).
#   python py_split_time.py READY_FILE [SECONDS]  (exits after SECONDS when given)
import sys
import threading
import time


def heavy():
    end = time.perf_counter() + 0.006
    while time.perf_counter() < end:
        pass


def light():
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass


def sleeper():
    while True:
        time.sleep(100)


threading.Thread(target=sleeper, name="sleeper", daemon=True).start()
open(sys.argv[1], "w").close()
stop = time.monotonic() + float(sys.argv[2]) if len(sys.argv) > 2 else None
while stop is None or time.monotonic() < stop:
    heavy()
    light()
