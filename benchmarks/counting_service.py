"""The demo service's shape (26 threads: 24 workers parked on a lock, one
request thread spinning in Python code, the main thread) with a measurable
pace, for benchmarks that ask how much a tool slows its target: the
spinning thread counts the requests it handles (a handful of nested calls
each, so stacks are several frames deep), and the main thread writes the
count to COUNT_FILE every 50 ms.

    python3 counting_service.py READY_FILE COUNT_FILE
"""
import os
import sys
import threading
import time

count = 0


def parse(n):
    return n * 3 + 1


def validate(n):
    return parse(n) % 7


def lookup(n):
    return validate(n) + validate(n + 1)


def handle(n):
    return lookup(n) * 2


def request_thread():
    global count
    while True:
        handle(count)
        count += 1


def worker(lock):
    with lock:
        pass


def main():
    lock = threading.Lock()
    lock.acquire()  # held for ever: the workers wait
    for i in range(24):
        threading.Thread(target=worker, args=(lock,), name=f"worker-{i}", daemon=True).start()
    threading.Thread(target=request_thread, name="request", daemon=True).start()
    out = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with open(sys.argv[1], "w") as ready:
        ready.write(str(os.getpid()))
    while True:
        text = f"{count} {time.monotonic():.6f}\n".encode()
        os.pwrite(out, text.ljust(48), 0)
        time.sleep(0.05)


main()
