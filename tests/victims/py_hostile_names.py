# A Python victim whose target-supplied strings attack a terminal: its
# threads' OS names (prctl) and Python names (the same text), a function's name and qualified name, and a
# file name hold ESC sequences (an OSC that sets the window title, CSI
# "clear screen"), a C1 CSI (U+009B), and CR/LF followed by text that fakes
# a line of triage-pystack's output.
#
# usage: python3 py_hostile_names.py READY_FILE     (3.8+: code.replace)
#
# Two worker threads and the main thread park in `parked` (marker "park:
# hostile"); READY_FILE is written once all three are there.
import ctypes
import os
import sys
import threading
import time

HOSTILE = '\x1b]0;owned\x07\x1b[2J\r\nThread 1 "fake" running 100.0%\n    \u009b31mred'
THREAD_NAME = b'\x1b[2J\r\nx\x1b]0;t'  # 15 bytes: the kernel keeps 15
PR_SET_NAME = 15
libc = ctypes.CDLL(None)

source = "def parked(ready):\n    ready.release()\n    while True:\n        time.sleep(3600)  # park: hostile\n"
namespace = {"time": time}
exec(compile(source, HOSTILE + ".py", "exec"), namespace)
parked = namespace["parked"]
names = {"co_name": HOSTILE}
if sys.version_info >= (3, 11):
    names["co_qualname"] = HOSTILE
parked.__code__ = parked.__code__.replace(**names)


def worker(ready):
    threading.current_thread().name = THREAD_NAME.decode()
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(THREAD_NAME), 0, 0, 0)
    parked(ready)


ready = threading.Semaphore(0)
for _ in range(2):
    threading.Thread(target=worker, args=(ready,), daemon=True).start()
    ready.acquire()
threading.current_thread().name = THREAD_NAME.decode()
libc.prctl(PR_SET_NAME, ctypes.c_char_p(THREAD_NAME), 0, 0, 0)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("ready\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
parked(threading.Semaphore(0))
