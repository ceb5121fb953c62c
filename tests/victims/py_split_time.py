# A victim with a known split of its time: heavy() spins 6 ms, light() 2 ms,
# in turn, forever, on one thread (a profile should give them 3:1). The
# milliseconds are the thread's CPU time, not the wall clock's: a spin that
# ends on the wall clock is stretched by a preemption that outlasts it, and
# under load that stretches the short one more (heavy's share of a profile
# fell below 70% beside a sanitizer build). A second
# thread sleeps (idle: left out of a profile of threads on a CPU). With
# --watchdog, faulthandler's watchdog runs too: a C thread with no Python
# thread state (native sampling shows it).
#   python py_split_time.py READY_FILE [SECONDS] [--watchdog]  (exits after SECONDS when given)
import faulthandler
import sys
import threading
import time


# Called inline, not through a Python helper: its frame would be the leaf.
clock = time.clock_gettime
THREAD_CPU = time.CLOCK_THREAD_CPUTIME_ID


def heavy():
    end = clock(THREAD_CPU) + 0.006
    while clock(THREAD_CPU) < end:
        pass


def light():
    end = clock(THREAD_CPU) + 0.002
    while clock(THREAD_CPU) < end:
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
