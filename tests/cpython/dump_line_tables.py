# Prints the raw line tables of a set of sample code objects, with CPython's
# own answer for every instruction offset, for tests/cpython/line_table_test.cpp.
# Runs under every interpreter from 2.7 to 3.13, so it stays 2.7-compatible.
#
# Output, one record per line, fields separated by single spaces:
#   python <major>.<minor>.<micro>
#   code <qualified-path> <co_firstlineno> <table-kind> <table-hex or ->
#     table-kind: lnotab (<= 3.9), linetable (3.10), locations (3.11+)
#   addr2line <offset>:<line> ...
#     PyCode_Addr2Line (CPython's C function, through ctypes) for every
#     offset the frame's f_lasti can hold, in the version's own unit:
#     bytes for <= 3.9, code units for 3.10+ (the C function is given the
#     byte offset 2 * unit). Includes -1 and one past the end.
#   linestarts <offset>:<line> ...        (<= 3.9: dis.findlinestarts)
#   lines <start>:<end>:<line> ...        (3.10+: co_lines(), byte offsets,
#                                          line -1 for None)
#   positions <line>:<end_line>:<col>:<end_col> ...
#                                         (3.11+: co_positions(), one per
#                                          code unit, -1 for None)
#   end
import ctypes
import dis
import sys
import types

SAMPLES = '''
import os

def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        while total < i:
            total += 1
    return total

def decorator(f):
    return f

@decorator
def decorated(
        a,
        b=2):
    return (a +
            b *
            (a - b))

class Klass(object):
    def method(self):
        return [x * 2 for x in range(10) if x]

    @staticmethod
    def gen(n):
        for i in range(n):
            yield i
            yield (
                i * 2
            )

def nested():
    def inner(y):
        return lambda z: y + z
    return inner(1)(2)

def tries(x):
    try:
        return 1 / x
    except ZeroDivisionError:
        return None
    finally:
        x = 0

comps = dict((k, v) for k, v in zip(range(3), range(3)))
squares = {k: k * k for k in range(4)}
gen_total = sum(i for i in range(10))
'''


def long_line_source():
    # One statement whose bytecode spans far more than 255 bytes, and whose
    # columns run past 127 (3.11 long-form entries).
    calls = ', '.join('os.path.join(str(%d), "x")' % i for i in range(40))
    return 'def long_line():\n    x = [%s]\n    return x\n' % calls


def far_source(first_line):
    # A function past line 70,000 with gaps of >255 and >127 lines between
    # statements, and a loop whose back edge jumps more than 255 lines up.
    lines = ['\n' * (first_line - 1)]
    lines.append('def far(a):\n')
    lines.append('    x = a\n')
    lines.append('\n' * 300)
    lines.append('    y = x + 1\n')
    lines.append('\n' * 150)
    lines.append('    z = y * 2\n')
    lines.append('    while z < 10:\n')
    lines.append('        z += 1\n')
    lines.append('\n' * 400)
    lines.append('        z += (a\n')
    lines.append('\n' * 200)
    lines.append('              + 1)\n')
    lines.append('    return [z,\n')
    lines.append('\n' * 130)
    lines.append('            y]\n')
    return ''.join(lines)


ASYNC_SAMPLES = '''
async def coro(x):
    await x
    async for y in x:
        pass
    return x
'''


def code_objects(code, path):
    yield path, code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            for item in code_objects(const, path + '/' + const.co_name):
                yield item


def hexlify(data):
    if not data:
        return '-'
    return ''.join('%02x' % b for b in bytearray(data))


def none_as(value):
    return -1 if value is None else value


def dump(code, path, addr2line):
    version = sys.version_info[:2]
    nbytes = len(code.co_code)
    if version <= (3, 9):
        kind, table = 'lnotab', code.co_lnotab
        offsets = range(-1, nbytes + 1)
        unit = 1
    else:
        kind = 'linetable' if version == (3, 10) else 'locations'
        table = code.co_linetable
        offsets = range(-1, nbytes // 2 + 1)
        unit = 2
    out = sys.stdout
    out.write('code %s %d %s %s\n' % (path, code.co_firstlineno, kind, hexlify(table)))
    out.write('addr2line')
    for offset in offsets:
        out.write(' %d:%d' % (offset, addr2line(code, offset * unit)))
    out.write('\n')
    if version <= (3, 9):
        out.write('linestarts')
        for offset, line in dis.findlinestarts(code):
            out.write(' %d:%d' % (offset, line))
        out.write('\n')
    else:
        out.write('lines')
        for start, end, line in code.co_lines():
            out.write(' %d:%d:%d' % (start, end, none_as(line)))
        out.write('\n')
    if version >= (3, 11):
        out.write('positions')
        for position in code.co_positions():
            out.write(' %d:%d:%d:%d' % tuple(none_as(v) for v in position))
        out.write('\n')
    out.write('end\n')


def main():
    addr2line = ctypes.pythonapi.PyCode_Addr2Line
    addr2line.argtypes = [ctypes.py_object, ctypes.c_int]
    addr2line.restype = ctypes.c_int
    sys.stdout.write('python %d.%d.%d\n' % sys.version_info[:3])
    sources = [
        ('samples', SAMPLES + long_line_source()),
        ('far', far_source(70001)),
    ]
    if sys.version_info >= (3, 5):
        sources.append(('async', ASYNC_SAMPLES))
    for name, source in sources:
        module = compile(source, name + '.py', 'exec')
        for path, code in code_objects(module, name):
            dump(code, path, addr2line)


main()
