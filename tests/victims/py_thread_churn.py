# A Python victim whose threads keep coming and going, in the spirit of
# py-spy's thread_reuse.py: every 5 ms it starts one thread that returns at
# once (its stack and thread control block are reused by the next) and one
# that parks for good in `long_lived` (marker "park: long-lived"), up to
# 2,000 of those. Runs on 2.7 and every 3.x.
#
# usage: python py_thread_churn.py READY_FILE
import os
import sys
import threading
import time

never = threading.Event()


def long_lived():
    never.wait()  # park: long-lived


def short_lived():
    pass


def starter():
    for _ in range(2000):
        for target in (long_lived, short_lived):
            thread = threading.Thread(target=target)
            thread.daemon = True
            thread.start()
        time.sleep(0.005)


churn = threading.Thread(target=starter)
churn.daemon = True
churn.start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("ready\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
never.wait()  # park: main
