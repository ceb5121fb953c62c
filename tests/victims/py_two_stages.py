# A process that moves on once: for cores written before and after.
#
# usage: python3 py_two_stages.py DIR
#
# A worker parks on a lock for ever; the main thread polls for DIR/go in
# first_stage(), writes DIR/ready first; once DIR/go exists it enters
# second_stage(), writes DIR/second and sleeps there for ever (Python 2.7
# and 3.x syntax).
import os
import sys
import threading
import time

directory = sys.argv[1]
held = threading.Lock()
held.acquire()


def announce(name):
    with open(os.path.join(directory, name + ".tmp"), "w") as f:
        f.write(name + "\n")
    os.rename(os.path.join(directory, name + ".tmp"), os.path.join(directory, name))


def parked():
    held.acquire()  # park: worker


def first_stage():
    announce("ready")
    while not os.path.exists(os.path.join(directory, "go")):
        time.sleep(0.01)  # park: first


def second_stage():
    announce("second")
    while True:
        time.sleep(0.01)  # park: second


worker = threading.Thread(target=parked)
worker.daemon = True
worker.start()
time.sleep(0.1)
first_stage()
second_stage()
