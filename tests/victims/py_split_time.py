# A victim with a known split of its time: heavy() spins 6 ms, light() 2 ms,
# in turn, forever, on one thread (a profile should give them 3:1). A second
# thread sleeps (idle: left out of a profile of threads on a CPU). With
# --watchdog, faulthandler's watchdog runs too: a C thread with no Python
# thread state (native sampling shows it).
#   python py_split_time.py READY_FILE [SECONDS] [--watchdog]  (exits after SECONDS when given)
import faulthandler
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


args = [a for a in sys.argv[1:] if a != "--watchdog"]
if "--watchdog" in sys.argv:
    faulthandler.dump_traceback_later(3600)
threading.Thread(target=sleeper, name="sleeper", daemon=True).start()
open(args[0], "w").close()
stop = time.monotonic() + float(args[1]) if len(args) > 1 else None
while stop is None or time.monotonic() < stop:
    heavy()
    light()
