"""A small stuck service for the triage demo (and benchmarks).

26 threads, as in the incident: the main thread waits for shutdown, 24
request workers block on a lock that the request dispatcher holds, and
one request thread spins forever in service/recall/newuser.py.

    python3 stuck_service.py [--ready-file PATH] [--resident-mb N]

It writes its pid to the ready file once every thread is parked, then runs
until it is killed.
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from service.recall import newuser  # noqa: E402

WORKERS = 24


def handle_request(sn):
    return newuser.get_gametype_anchor_by_sn(sn)


def request_thread(started):
    started.release()
    handle_request("Z999-unknown-serial")


def worker(dispatch_lock, started):
    started.release()
    with dispatch_lock:  # held by the dispatcher for ever: the workers wait
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready-file")
    parser.add_argument("--resident-mb", type=int, default=0,
                        help="touch this much memory first (for core-file demos)")
    args = parser.parse_args()

    ballast = bytearray(args.resident_mb * 1024 * 1024)
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1

    dispatch_lock = threading.Lock()
    dispatch_lock.acquire()
    started = threading.Semaphore(0)
    threads = [threading.Thread(target=worker, args=(dispatch_lock, started), name="worker-%d" % i)
               for i in range(WORKERS)]
    threads.append(threading.Thread(target=request_thread, args=(started,), name="request-handler"))
    for t in threads:
        t.daemon = True
        t.start()
    for _ in threads:
        started.acquire()
    time.sleep(0.2)  # let the workers reach the lock
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.ready_file + ".tmp", args.ready_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
