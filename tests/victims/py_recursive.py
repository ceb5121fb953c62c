# A Python victim whose one thread recurses and returns in a tight loop, in
# the spirit of py-spy's recursive.py (runs on 2.7 and every 3.x).
#
# usage: python py_recursive.py READY_FILE HOLD_SECONDS
#
# The main thread calls loop(), which writes READY_FILE ("ready\n") and then
# sweeps forever: recurses to depth 20 and returns all the way, then to 21,
# ... 50 (about 1,100 calls in a tight loop). With HOLD_SECONDS > 0 it then
# holds still that long at the bottom of the depth-50 recursion (spinning on
# C calls only, so the thread keeps running but its stack does not change)
# before the next sweep. A read made during a sweep is likely torn. With 0
# the stack never holds still: on an idle machine a reader that reads it
# twice rarely finds it the same; a hold gives it stacks to agree on.
# recurse(n) calls recurse(n - 1) from one of three lines chosen by n % 3,
# so that any stack that really existed shows the call lines in a fixed
# rotation, and a stack stitched from two moments likely breaks it. Before
# 3.11 the frames are recycled (free lists, each code object's zombie frame),
# so the same addresses keep coming back holding other frames.
# Lines the tests look for carry a marker comment: "park: NAME" (a line
# only some frames can be at: a call, the bottom of the recursion, the
# hold at depth 50), "spin: NAME" (any other line of the function NAME).
import os
import sys
import time


def recurse(depth, hold):  # spin: recurse
    if depth == 0:  # spin: recurse
        if hold:  # park: bottom
            until = time.time() + hold  # park: hold
            while time.time() < until:  # park: hold
                pass  # park: hold
        return 0  # park: bottom
    if depth % 3 == 0:  # spin: recurse
        return recurse(depth - 1, hold) + 1  # park: call-0
    if depth % 3 == 1:  # spin: recurse
        return recurse(depth - 1, hold) + 1  # park: call-1
    return recurse(depth - 1, hold) + 1  # park: call-2


def loop(ready_path, hold):  # spin: loop
    ready = open(ready_path + ".tmp", "w")  # spin: loop
    ready.write("ready\n")  # spin: loop
    ready.close()  # spin: loop
    os.rename(ready_path + ".tmp", ready_path)  # spin: loop
    while True:  # spin: loop
        for depth in range(20, 51):  # spin: loop
            recurse(depth, hold if depth == 50 else 0)  # park: loop-call


loop(sys.argv[1], float(sys.argv[2]))  # park: module-call
