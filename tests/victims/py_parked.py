# A Python victim for the CPython stack walker (runs on 2.7 and every 3.x).
#
# usage: python py_parked.py READY_FILE DUMP_FILE EXTRA_DIR [--churn]
#
# Parks threads in known places, then writes READY_FILE ("ready\n") and
# parks the main thread at module level. Lines the tests look for carry a
# marker comment, "park: NAME" (the line a thread waits on) or "spin: NAME"
# (any line of a busy loop); the tests parse them from this file.
# On 3.3+ SIGUSR1 makes faulthandler dump every thread's stack to DUMP_FILE,
# the oracle the tests compare with.
# EXTRA_DIR holds files the test generates: "long_module.py" (a function
# past line 70,000) and a module with a non-ASCII file name (and, on 3.x,
# non-ASCII function names); each is compiled and exec'd here.
# --churn adds a thread that keeps starting threads that exit at once.
import os
import sys
import threading
import time

ready_path, dump_path, extra_dir = sys.argv[1], sys.argv[2], sys.argv[3]
churn = "--churn" in sys.argv[4:]

# Imports come before the threads: once the spinner holds the GIL, every
# file read of an import waits a switch interval (5 ms) for it, and
# importing asyncio that way took 1.5-3 s.
if sys.version_info >= (3, 5):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import py_coroutines

if sys.version_info >= (3, 3):
    import faulthandler
    import signal
    dump_file = open(dump_path, "w")
    faulthandler.register(signal.SIGUSR1, file=dump_file, all_threads=True)

held_lock = threading.Lock()
held_lock.acquire()
never = threading.Event()
parked = []
parked_lock = threading.Lock()


def mark_parked(name):
    with parked_lock:
        parked.append(name)


def sleeper():
    mark_parked("sleeping")
    while True:
        time.sleep(3600)  # park: sleeping


class Worker(object):
    def wait_for_lock(self):
        mark_parked("lock")
        held_lock.acquire()  # park: lock


def spinner():
    mark_parked("spinning")
    counter = 0
    while True:  # spin: spinning
        counter += 1  # spin: spinning
        if counter > 1000000:  # spin: spinning
            counter = 0  # spin: spinning


def recurse(depth):
    if depth == 0:
        mark_parked("recursion")
        held_lock.acquire()  # park: recursion
    return recurse(depth - 1)  # park: recursion-frame


def counting_generator():
    yield 1
    mark_parked("generator")
    held_lock.acquire()  # park: generator
    yield 2


def drain_generator():
    for _ in counting_generator():  # park: generator-consumer
        pass


def blocked_in_comprehension():
    mark_parked("comprehension")
    return [held_lock.acquire() for _ in range(1)]  # park: comprehension


def load_extra(file_name):
    path = os.path.join(extra_dir, file_name)
    with open(path, "rb") as f:
        source = f.read()
    namespace = {"held_lock": held_lock, "mark_parked": mark_parked}
    exec(compile(source, path, "exec"), namespace)
    return namespace


def start(target, *args):
    thread = threading.Thread(target=target, args=args)
    thread.daemon = True
    thread.start()
    return thread


def churner():
    mark_parked("churn")
    while True:
        worker = start(lambda: None)
        worker.join()


expected = ["sleeping", "lock", "spinning", "recursion", "generator", "comprehension", "lambda", "long", "unicode"]
start(sleeper)
start(Worker().wait_for_lock)
start(spinner)
start(recurse, 950)
start(drain_generator)
start(blocked_in_comprehension)
start(lambda: mark_parked("lambda") or held_lock.acquire())  # park: lambda
long_module = load_extra("long_module.py")
start(long_module["far_away"])
unicode_module = load_extra(
    [name for name in os.listdir(extra_dir) if name.endswith(".py") and name != "long_module.py"][0])
start(unicode_module["entry"])
if sys.version_info >= (3, 5):
    py_coroutines.start(held_lock, mark_parked)
    expected += py_coroutines.parked_names
if churn:
    start(churner)
    expected.append("churn")

for _ in range(2000):
    with parked_lock:
        if sorted(parked) == sorted(expected):
            break
    time.sleep(0.005)
time.sleep(0.2)  # let the last thread reach its blocking call

with open(ready_path + ".tmp", "w") as f:
    f.write("ready %d\n" % len(parked))
os.rename(ready_path + ".tmp", ready_path)

while True:
    time.sleep(3600)  # park: main
