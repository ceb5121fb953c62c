# A victim full of greenlets, like the incident's eventlet service: N
# greenlets parked in known places, one never started, one finished, and one
# spinning forever (the running one), with the main greenlet switched out.
#
#   python py_greenlets.py READY_FILE N greenlet|eventlet
#
# greenlet: plain greenlets, each parked by switching back to the main
# greenlet from park_<k % 3>(); the main greenlet then switches to the
# spinner; a second thread ("worker") parks two greenlets of its own and
# waits on an Event in its main greenlet. eventlet: green threads (eventlet.spawn) parked on an Event, in
# eventlet.sleep() and on a Queue, the spinner a green thread too (the hub
# and the main greenlet switched out).
# Before the spinner starts, READY_FILE gets, as JSON, the oracle greenlet
# itself gives: for every parked greenlet, id(g), its type's name and its
# stack from g.gr_frame (innermost first: [function, line]); the ids of the
# not-started and finished ones; the main greenlet's id; the worker's
# thread ident and parked greenlets (greenlet mode); how many objects
# the GC tracks (gc.get_objects()). Then the spinner runs and never
# switches again.
import gc
import json
import os
import sys

import greenlet

ready, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def stack_of(g):
    frames, frame = [], g.gr_frame
    while frame is not None:
        frames.append([frame.f_code.co_name, frame.f_lineno])
        frame = frame.f_back
    return frames


def spin():
    n = 0
    while True:  # spinning: the running greenlet
        n += 1


if mode == "eventlet":
    import eventlet
    import eventlet.event
    import eventlet.queue

    never = eventlet.event.Event()
    queue = eventlet.queue.Queue()

    def park_0():
        never.wait()  # parked on an Event

    def park_1():
        eventlet.sleep(3600)  # parked on a timer

    def park_2():
        queue.get()  # parked on a Queue

    def start(k):
        return eventlet.spawn((park_0, park_1, park_2)[k % 3])

    def let_them_park():
        eventlet.sleep(0.2)

    def run_spinner():
        eventlet.spawn(spin)
        eventlet.sleep(0)  # the hub runs the spinner, which never yields
else:
    main = greenlet.getcurrent()

    def park_0():
        main.switch()  # parked: switched back to main

    def park_1():
        inner_park()

    def inner_park():
        main.switch()  # parked one call deeper

    def park_2():
        while True:
            main.switch()

    def start(k):
        g = greenlet.greenlet((park_0, park_1, park_2)[k % 3])
        g.switch()
        return g

    def let_them_park():
        pass

    def run_spinner():
        greenlet.greenlet(spin).switch()

    # A second thread with greenlets of its own, parked, its main greenlet
    # running (waiting on an Event).
    import threading

    worker_parked, worker_ready, worker_stop = [], threading.Event(), threading.Event()

    def worker():
        here = greenlet.getcurrent()

        def park_in_worker():
            here.switch()  # parked in the worker thread

        for _ in range(2):
            g = greenlet.greenlet(park_in_worker)
            g.switch()
            worker_parked.append(g)
        worker_ready.set()
        worker_stop.wait()

    worker_thread = threading.Thread(target=worker, name="worker", daemon=True)
    worker_thread.start()
    worker_ready.wait()


parked = [start(k) for k in range(count)]
let_them_park()
unstarted = greenlet.greenlet(spin)
finished = greenlet.greenlet(lambda: None)
finished.switch()
gc.collect()  # no garbage pending, and no collection from here on: the count holds
gc.disable()
oracle = {
    "main": id(greenlet.getcurrent()),
    "parked": [{"id": id(g), "type": type(g).__name__, "frames": stack_of(g)} for g in parked],
    "not_started": id(unstarted),
    "dead": id(finished),
    "tracked": len(gc.get_objects()) + gc.get_freeze_count(),
}
if mode != "eventlet":
    oracle["worker"] = {
        "ident": worker_thread.ident,
        "parked": [{"id": id(g), "type": type(g).__name__, "frames": stack_of(g)} for g in worker_parked],
    }
with open(ready + ".tmp", "w") as f:
    json.dump(oracle, f)
os.rename(ready + ".tmp", ready)
run_spinner()
