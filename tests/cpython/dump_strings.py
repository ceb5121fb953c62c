# Dumps the raw bytes of real string objects of this interpreter, with the
# UTF-8 they must decode to, for tests/cpython/python_string_test.cpp.
# Runs under every interpreter from 2.7 to 3.13, so it stays 2.7-compatible.
#
# Output, one record per line, fields separated by single spaces:
#   python <major>.<minor>.<micro>
#   sizes <ascii_data> <compact_data> <legacy_data>     (3.x: from sys.getsizeof
#         of compact strings and str.__basicsize__)
#   sizes27 <str_data> <unicode_unit>                   (2.7)
#   object <label> <type> <address> <bytes-hex> <expected-utf8-hex or ->
#         type: unicode (3.x str), str27, unicode27
#   region <address> <bytes-hex>      more target memory for the object above
#                                      (the text of a legacy or 2.7 unicode string)
import ctypes
import sys

PY3 = sys.version_info[0] >= 3
if PY3:
    unichr_ = chr
    text_type = str
else:
    unichr_ = unichr  # noqa: F821
    text_type = unicode  # noqa: F821


def hexlify(data):
    if not data:
        return '-'
    return ''.join('%02x' % b for b in bytearray(data))


def expected_utf8(s):
    # Lone surrogates cannot be encoded: our decoder shows them as U+FFFD.
    if isinstance(s, bytes) and not PY3:
        return s.decode('utf-8', 'replace').encode('utf-8')
    chars = []
    i = 0
    while i < len(s):
        c = s[i]
        o = ord(c)
        if 0xD800 <= o <= 0xDBFF and i + 1 < len(s) and 0xDC00 <= ord(s[i + 1]) <= 0xDFFF and not PY3:
            chars.append(c + s[i + 1])  # a 2.7 narrow build's surrogate pair
            i += 2
            continue
        chars.append(u'\ufffd' if 0xD800 <= o <= 0xDFFF else c)
        i += 1
    return u''.join(chars).encode('utf-8')


def kind_of(s):
    m = max([ord(c) for c in s] or [0])
    return 1 if m < 256 else 2 if m < 65536 else 4


class Sub(text_type):
    pass


def samples():
    snake = unichr_(0x1F40D) if sys.maxunicode > 0xFFFF else u'\ud83d\udc0d'
    texts = [
        ('empty', u''),
        ('ascii', u'hello_world'),
        ('latin1', u'caf\xe9'),
        ('ucs2', u'\u03a9mega'),
        ('ucs4', u'snake ' + snake),
        ('mixed', u'\u65e5\u672c ' + snake + u' \xe9'),
        ('lone_surrogate', u'\udc80abc'),
        ('long_ascii', u'x' * 100000),
        ('long_ucs2', u'\u03a9' * 20000),
        ('long_ucs4', snake * 5000),
    ]
    return texts


def dump_object(label, kind, obj, size, expected, regions=()):
    address = id(obj)
    sys.stdout.write('object %s %s %d %s %s\n' % (
        label, kind, address, hexlify(ctypes.string_at(address, size)), hexlify(expected)))
    for region_address, region_size in regions:
        sys.stdout.write('region %d %s\n' % (region_address, hexlify(ctypes.string_at(region_address, region_size))))


def main():
    sys.stdout.write('python %d.%d.%d\n' % sys.version_info[:3])
    keep = []
    if PY3:
        # sys.getsizeof of a compact string is its header plus (length + 1)
        # code units, as long as no UTF-8 copy is cached (never for a string
        # just built at run time and not encoded since).
        ascii_data = sys.getsizeof(''.join(['a', 'b'])) - 3
        compact_data = sys.getsizeof(''.join([u'\xe9', u'\xe8'])) - 3
        legacy_data = str.__basicsize__ - 8
        sys.stdout.write('sizes %d %d %d\n' % (ascii_data, compact_data, legacy_data))
        for label, s in samples():
            header = ascii_data if kind_of(s) == 1 and max([ord(c) for c in s] or [0]) < 128 else compact_data
            dump_object(label, 'unicode', s, header + (len(s) + 1) * kind_of(s), expected_utf8(s))
            # A str subclass instance is a legacy (non-compact) string whose
            # text lives in a separate buffer (one long one is enough).
            if label in ('long_ucs2', 'long_ucs4'):
                continue
            sub = Sub(s)
            keep.append(sub)
            data = ctypes.c_void_p.from_address(id(sub) + legacy_data).value
            dump_object('sub_' + label, 'unicode', sub, str.__basicsize__, expected_utf8(s),
                        [(data, (len(s) + 1) * kind_of(s))] if data else [])
    else:
        unit = 4 if sys.maxunicode > 0xFFFF else 2
        sys.stdout.write('sizes27 %d %d\n' % (str.__basicsize__ - 1, unit))
        as_unicode = getattr(ctypes.pythonapi, 'PyUnicodeUCS4_AsUnicode', None) or \
            getattr(ctypes.pythonapi, 'PyUnicodeUCS2_AsUnicode')
        as_unicode.argtypes = [ctypes.py_object]
        as_unicode.restype = ctypes.c_void_p
        byte_strings = [
            ('str_ascii', 'hello_world'),
            ('str_utf8', 'caf\xc3\xa9 \xf0\x9f\x90\x8d'),
            ('str_invalid', 'a\xffb\xfe\xc3x'),
            ('str_long', 'y' * 100000),
        ]
        for label, s in byte_strings:
            dump_object(label, 'str27', s, sys.getsizeof(s), expected_utf8(s))
        for label, s in samples():
            data = as_unicode(s)
            dump_object(label, 'unicode27', s, unicode.__basicsize__, expected_utf8(s),  # noqa: F821
                        [(data, (len(s) + 1) * unit)])


main()
