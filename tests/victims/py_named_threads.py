# A Python victim whose threads have known Python names (runs on 2.7 and
# every 3.x), for the thread-name reader.
#
# usage: python py_named_threads.py ORACLE_FILE
#
# Starts threads that park forever: plain threading.Thread objects with
# short, long (past the OS's 15 bytes) and, on 3.x, Latin-1, BMP and astral
# names; 20 more (so that threading._active outgrows a small dict); one
# renamed after it started; one whose attributes were moved into a dict
# object; a Thread subclass with attributes of its own; a thread started
# with the low-level thread module that threading never sees; and one such
# thread that asks threading for its current thread (a "Dummy-N" entry).
# Then writes, atomically, ORACLE_FILE: one line per thread threading knows,
# "IDENT<TAB>NAME" (UTF-8), IDENT being threading.get_ident(); the raw
# thread's ident is on a line "raw<TAB>IDENT". The main thread parks.
import os
import sys
import threading
import time

try:
    import _thread as low_level
except ImportError:
    import thread as low_level

oracle_path = sys.argv[1]
never = threading.Event()
held = threading.Lock()
held.acquire()

names = ["request-7", "a-thread-name-longer-than-fifteen-bytes"]
if sys.version_info[0] >= 3:
    names += [u"w\u00f6rker-\u00e9", u"\u65e5\u672c-thread", u"\U0001f40d-snake"]
names += ["pool-%d" % k for k in range(20)]


def park():
    never.wait()


for name in names:
    t = threading.Thread(target=park, name=name)
    t.daemon = True
    t.start()

renamed = threading.Thread(target=park, name="before-rename")
renamed.daemon = True
renamed.start()
renamed.name = "after-rename"

with_dict = threading.Thread(target=park, name="with-dict")
with_dict.daemon = True
with_dict.start()
vars(with_dict)["extra"] = 1  # 3.11+: the attributes now live in a dict object


class Worker(threading.Thread):
    def __init__(self, name):
        threading.Thread.__init__(self, name=name)
        self.daemon = True
        self.job = "none"
        self.attempts = 0

    def run(self):
        never.wait()


Worker("subclass-worker").start()

raw_idents = []
started = threading.Lock()


def raw(ask_threading):
    if ask_threading:
        threading.current_thread()  # registers a _DummyThread
    with started:
        raw_idents.append((ask_threading, low_level.get_ident()))
    held.acquire()


low_level.start_new_thread(raw, (False,))
low_level.start_new_thread(raw, (True,))
while True:
    with started:
        if len(raw_idents) == 2:
            break
    time.sleep(0.01)

lines = []
for t in threading.enumerate():
    lines.append("%d\t%s\n" % (t.ident, t.name))
for ask_threading, ident in raw_idents:
    if not ask_threading:
        lines.append("raw\t%d\n" % ident)
data = "".join(lines)
if not isinstance(data, bytes):
    data = data.encode("utf-8")
with open(oracle_path + ".tmp", "wb") as f:
    f.write(data)
os.rename(oracle_path + ".tmp", oracle_path)
never.wait()
