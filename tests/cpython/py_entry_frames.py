# The victim of entry_frames_test.cpp (Python 2.7 and 3.x): a thread whose
# Python stack mixes calls made by Python code (run inline by 3.11+'s eval
# loop) with calls made by C code (each a C call of the eval loop of its
# own), parked in time.sleep; the main thread parks in time.sleep too.
#
#   python py_entry_frames.py READY_FILE
#
# Innermost first, the parked thread runs:
#   park           called by Python (__init__)
#   Parked.__init__ called by the type call: C (type_call), unless 3.13+
#                  specialised the call site (warmed up below) to run it inline
#   helper         called by Python (keyfunc)
#   keyfunc        called by C (sorted's key)
#   generator      resumed by C (next)
#   mapped         called by C (map)
#   run            called by Thread.run, then the threading module's frames
# READY_FILE is renamed into place when the thread has parked.
import os
import sys
import threading
import time

ready_path = sys.argv[1]


def park():
    with open(ready_path + ".tmp", "w") as f:
        f.write("parked\n")
    os.rename(ready_path + ".tmp", ready_path)
    while True:
        time.sleep(1000)  # park: entry


class Parked(object):
    def __init__(self, x):
        if x:
            park()


def helper(x):
    return Parked(x)


def keyfunc(x):
    return helper(x)


def generator(x):
    yield sorted([x], key=keyfunc)


def mapped(x):
    return next(generator(x))


def run(x):
    return list(map(mapped, [x]))


# Warm the call sites up, so that 3.13+ specialise `Parked(x)` as they
# would in a long-running program.
for _ in range(64):
    run(0)

threading.Thread(target=run, args=(1,), name="mixed").start()
while True:
    time.sleep(1000)
