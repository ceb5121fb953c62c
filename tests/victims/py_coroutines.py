# Coroutine threads for py_parked.py (3.5+ syntax; imported only there).
# One coroutine chain driven by hand with send(), and one asyncio task that
# blocks its event loop inside a coroutine; both park on `held_lock`.
import asyncio
import threading

parked_names = ["coroutine", "asyncio"]


async def inner_coroutine(held_lock, mark_parked):
    mark_parked("coroutine")
    held_lock.acquire()  # park: coroutine
    return 1


async def outer_coroutine(held_lock, mark_parked):
    return await inner_coroutine(held_lock, mark_parked)  # park: coroutine-outer


def drive_by_hand(held_lock, mark_parked):
    coroutine = outer_coroutine(held_lock, mark_parked)
    try:
        coroutine.send(None)  # park: coroutine-driver
    except StopIteration:
        pass


async def blocking_task(held_lock, mark_parked):
    await asyncio.sleep(0)
    mark_parked("asyncio")
    held_lock.acquire()  # park: asyncio


def run_loop(held_lock, mark_parked):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(blocking_task(held_lock, mark_parked))  # park: asyncio-loop


def start(held_lock, mark_parked):
    for target in (drive_by_hand, run_loop):
        thread = threading.Thread(target=target, args=(held_lock, mark_parked))
        thread.daemon = True
        thread.start()
