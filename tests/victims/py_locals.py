# The victim of frame_locals_test.cpp (Python 2.7 and every 3.x): a thread
# parked in `parked`, a closure whose frame holds arguments and locals of
# every kind triage reads, and the victim's own repr() of each (the oracle).
#
#   python py_locals.py READY_FILE ORACLE_FILE
#
# `parked` takes: positional-only (3.8+), positional, a positional captured
# by a closure, *args, keyword-only (3.x), **kwargs; it has plain locals of
# every common type (None, bools, small, big and huge ints, floats, str,
# unicode, bytes, containers short and long, nested and cyclic, an instance
# of a class, a function), a cell of its own (`shared`), a free variable of
# the enclosing function (`free_value`), a local that is never bound
# (`later`), and the variables the oracle was built in, deleted before it
# sleeps. ORACLE_FILE is a JSON list, one object per bound variable:
# name, kind ("arg", "local", "cell"), repr, type (type(v).__name__), and
# where they apply: len, id (hex(id(v))), digits (decimal digits of an
# int), bits and hex (of an int). READY_FILE is renamed into place after
# the oracle, when the thread is about to sleep in `parked`. The main
# thread then sleeps at module level (a frame without fast locals).
import json
import os
import sys
import threading
import time

ready_path, oracle_path = sys.argv[1], sys.argv[2]
py3 = sys.version_info[0] >= 3


class Point(object):
    def __init__(self, x, y):
        self.x = x
        self.y = y


def publish(described):
    with open(oracle_path + ".tmp", "w") as f:
        json.dump(described, f)
    os.rename(oracle_path + ".tmp", oracle_path)
    with open(ready_path + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(ready_path + ".tmp", ready_path)


def describe(values, kinds):
    out = []
    for name, kind in kinds:
        value = values[name]
        entry = {"name": name, "kind": kind, "repr": repr(value), "type": type(value).__name__,
                 "id": hex(id(value)).rstrip("L")}
        if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)) or type(value).__name__ == "unicode":
            entry["len"] = len(value)
        if type(value).__name__ in ("int", "long"):
            entry["digits"] = len(str(abs(value)))
            entry["bits"] = value.bit_length()
            entry["hex"] = hex(value).rstrip("L")
        out.append(entry)
    return out


# The parameters this version's syntax has, and their names in slot order
# (co_varnames: positional, keyword-only, *args, **kwargs).
parameters = ["pos", "captured", "*args"]
argument_names = ["pos", "captured"]
if sys.version_info >= (3, 8):
    parameters = ["posonly", "/"] + parameters
    argument_names = ["posonly"] + argument_names
if py3:
    parameters.append("kwonly")
    argument_names.append("kwonly")
parameters.append("**kwargs")
argument_names += ["args", "kwargs"]

# The body of `parked`, the same for every version; u'' and b'' literals
# are valid in 2.7 and 3.3+.
body = '''
    none_value = None
    true_value = True
    false_value = False
    small = 42
    negative = -7
    big = 2 ** 100
    long_int = 7 ** 200
    huge = -(3 ** 5000)
    pi = 3.14159
    one = 1.0
    tiny = 1e-05
    big_float = 1e16
    infinite = float("inf")
    not_a_number = float("nan")
    negative_zero = -0.0
    text = "hello"
    quoted = "it's"
    escaped = "tab\\there\\n"
    wide = u"h\\xe9llo w\\xf6rld \\u2713"
    raw = b"\\x00\\x01abc\\xff"
    long_str = "x" * 5000
    a_list = [1, "two", 3.0]
    a_tuple = (1,)
    empty_tuple = ()
    a_dict = {"a": 1, "b": [1, 2]}
    a_set = set([1, 2, 3])
    empty_set = set()
    frozen = frozenset([1, 2])
    nested = [[1, [2, [3, [4]]]]]
    long_list = list(range(100))
    cyclic = []
    cyclic.append(cyclic)
    point = Point(1, 2)
    shared = "shared with closure"

    def closure():
        return captured, shared

    values = dict(locals())
    values["free_value"] = free_value
    kinds = [(name, "arg") for name in ARGUMENTS]
    kinds += [(name, "local") for name in LOCALS]
    kinds += [("shared", "cell"), ("free_value", "cell")]
    FORGET_COMPREHENSION
    publish(describe(values, kinds))
    del values, kinds
    while True:
        time.sleep(1000)
    later = 1
'''

local_names = ["none_value", "true_value", "false_value", "small", "negative", "big", "long_int", "huge", "pi",
               "one", "tiny", "big_float", "infinite", "not_a_number", "negative_zero", "text", "quoted", "escaped",
               "wide", "raw", "long_str", "a_list", "a_tuple", "empty_tuple", "a_dict", "a_set", "empty_set",
               "frozen", "nested", "long_list", "cyclic", "point", "closure"]

# A list comprehension's variable is a local of the function in 2.7 (3.12+
# inline it as a hidden local, unbound once it ends): 2.7 deletes it.
body = body.replace("FORGET_COMPREHENSION", "pass" if py3 else "del name")
source = ("def make_parked(free_value):\n"
          "  def parked(" + ", ".join(parameters) + "):\n"
          "    free_value\n" + body + "\n"
          "  return parked\n")
namespace = {"publish": publish, "describe": describe, "Point": Point, "time": time,
             "ARGUMENTS": argument_names, "LOCALS": local_names}
exec(compile(source, "py_locals_parked.py", "exec"), namespace)
parked = namespace["make_parked"]("from the enclosing scope")

arguments = {"pos": 10, "captured": "captured argument"}
if sys.version_info >= (3, 8):
    arguments["posonly"] = 1
if py3:
    arguments["kwonly"] = "keyword only"


def run():
    positional = [arguments["posonly"]] if "posonly" in arguments else []
    positional += [arguments["pos"], arguments["captured"], 5, "six"]
    keywords = {"extra": "kw"}
    if "kwonly" in arguments:
        keywords["kwonly"] = arguments["kwonly"]
    parked(*positional, **keywords)


thread = threading.Thread(target=run, name="parker")
thread.daemon = True
thread.start()
while True:
    time.sleep(1000)
