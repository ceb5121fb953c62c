# A service that turns hot after a delay (the sustained-CPU trigger's
# victim: triage-gcore --when-cpu): the main thread sleeps in waiting() for
# DELAY seconds, creates HOT_FILE, then spins in turned_hot() forever; a
# second thread sleeps throughout.
#   python py_turns_hot.py READY_FILE HOT_FILE DELAY
import sys
import threading
import time


def sleeper():
    while True:
        time.sleep(100)


def waiting(seconds):
    time.sleep(seconds)


def turned_hot():
    n = 0
    while True:
        n += 1


threading.Thread(target=sleeper, name="sleeper", daemon=True).start()
open(sys.argv[1], "w").close()
waiting(float(sys.argv[3]))
open(sys.argv[2], "w").close()
turned_hot()
