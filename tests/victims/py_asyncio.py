# A victim full of asyncio tasks, parked in known places, while one task
# spins and blocks its event loop (the incident's service, on asyncio).
#
#   python py_asyncio.py READY_FILE N [pure]
#
# With "pure", asyncio runs without its C module (_asyncio): every task is a
# pure-Python one.
# Main thread's loop: N tasks "parked-<k>" waiting one or two coroutines
# deep on asyncio.sleep() or an Event; "parent" waiting on gather() of
# "child-0" and "child-1"; "awaiter" awaiting the task "target"; "ready"
# created and never run. A second thread ("side") runs a loop of its own:
# "side-main" gathers "side-0" and "side-1", parked on an Event. Then the
# main task spins (3.12+: in a task started eagerly, "spinner", still in its
# first step, which asyncio keeps in _eager_tasks). Registered too, and left
# out of the account (only C tasks are read): a pure-Python task
# (asyncio.tasks._PyTask) parked in sleep() and an object that is no task.
# Before spinning, READY_FILE gets, as JSON, asyncio's own account of every
# pending task: id, name, state (running, waiting: on a future; ready), the
# ident of the thread running its loop, its coroutine chain from cr_await
# (innermost first: [function, line]; for a coroutine never started its
# function only, line null), and the ids of the tasks it awaits.
import sys

if sys.argv[3:] == ["pure"]:
    sys.modules["_asyncio"] = None  # its import fails: asyncio.tasks keeps _PyTask
import asyncio
import json
import os
import threading

ready_file, count = sys.argv[1], int(sys.argv[2])
has_names = sys.version_info >= (3, 8)


def create(coro, name):
    return asyncio.ensure_future(coro) if not has_names else asyncio.get_event_loop().create_task(coro, name=name)


def chain_of(task):
    frames, coro = [], task.get_coro() if has_names else task._coro
    while type(coro).__name__ in ("coroutine", "generator"):
        frame = coro.cr_frame if hasattr(coro, "cr_frame") else coro.gi_frame
        if frame is None:
            break
        started = frame.f_lasti >= 0
        frames.append([frame.f_code.co_name, frame.f_lineno if started else None])
        if not started:
            break
        coro = coro.cr_await if hasattr(coro, "cr_await") else coro.gi_yieldfrom
    return frames[::-1]


def account(task, state, awaits, thread):
    return {
        "id": id(task),
        "name": task.get_name() if has_names else "",
        "state": state,
        "thread": thread,
        "frames": chain_of(task) if state != "running" else [],
        "awaits": [id(t) for t in awaits],
    }


async def deeper(k, event):
    if k % 2:
        await asyncio.sleep(3600)  # parked in sleep
    else:
        await event.wait()  # parked on an Event


async def parked(k, event):
    if k % 3 == 2:
        await deeper(k, event)  # one coroutine deeper
    else:
        await asyncio.sleep(3600 + k)


async def child():
    await asyncio.sleep(3600)


async def parent(children):
    await asyncio.gather(*children)


async def awaiter(target):
    await target


async def never_run():
    await asyncio.sleep(3600)


class NotATask:
    pass


side_accounts, side_ready = [], threading.Event()


async def side_main():
    event = asyncio.Event()
    loop_thread = threading.get_ident()
    kids = [create(deeper(2 * k, event), "side-%d" % k) for k in range(2)]
    await asyncio.sleep(0.1)
    me = asyncio.current_task() if sys.version_info >= (3, 7) else None
    side_accounts.append((me, kids, loop_thread))
    side_ready.set()
    await asyncio.gather(*kids)


def side():
    asyncio.run(side_main())


def spin():
    n = 0
    while True:  # spinning: the running task, its loop blocked
        n += 1


async def main():
    event = asyncio.Event()
    tasks = [(create(parked(k, event), "parked-%d" % k), []) for k in range(count)]
    children = [create(child(), "child-%d" % k) for k in range(2)]
    tasks += [(c, []) for c in children]
    tasks.append((create(parent(children), "parent"), children))
    target = create(child(), "target")
    tasks += [(target, []), (create(awaiter(target), "awaiter"), [target])]
    threading.Thread(target=side, name="side", daemon=True).start()
    loop = asyncio.get_running_loop()
    named = {"name": "python-task"} if has_names else {}
    not_read = [asyncio.tasks._PyTask(child(), loop=loop, **named), NotATask()]
    asyncio.tasks._register_task(not_read[1])
    side_ready.wait()
    await asyncio.sleep(0.2)  # all of them parked
    unstarted = create(never_run(), "ready")
    me = asyncio.current_task()
    here = threading.get_ident()
    accounts = [account(t, "waiting", awaits, here) for t, awaits in tasks]
    accounts.append(account(unstarted, "ready", [], here))
    accounts.append(account(me, "running", [], here))
    side_me, side_kids, side_thread = side_accounts[0]
    accounts += [account(t, "waiting", [], side_thread) for t in side_kids]
    accounts.append(account(side_me, "waiting", side_kids, side_thread))

    def write(extra):
        with open(ready_file + ".tmp", "w") as f:
            json.dump({"tasks": accounts + extra}, f)
        os.rename(ready_file + ".tmp", ready_file)

    if sys.version_info >= (3, 12):
        async def spinner():
            write([account(asyncio.current_task(), "running", [], here)])
            spin()

        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        create(spinner(), "spinner")  # runs eagerly: never returns
    write([])
    spin()


asyncio.run(main())
