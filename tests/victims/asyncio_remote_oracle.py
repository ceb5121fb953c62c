# CPython 3.14+'s own account of another process's asyncio tasks, the one
# `python -m asyncio ps PID` prints, as JSON on stdout:
#   {"<task id>": {"name": ..., "awaited_by": [<task id>...]}}
#
#   python3.14 asyncio_remote_oracle.py PID
import json
import sys

from _remote_debugging import RemoteUnwinder

tasks = {}
for per_thread in RemoteUnwinder(int(sys.argv[1])).get_all_awaited_by():
    for task in per_thread.awaited_by:
        tasks[str(task.task_id)] = {
            "name": str(task.task_name),
            "awaited_by": sorted(coro.task_name for coro in task.awaited_by),
        }
json.dump(tasks, sys.stdout)
