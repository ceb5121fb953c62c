"""Recall of new users: picks the anchor game type for a serial number.

This module reproduces the bug from the incident: for a serial number that
matches no anchor, the `while` loop around `enumerate()` never ends, and
the request thread spins at 100% CPU without making a system call.
"""

GAMETYPE_ANCHORS = [
    ("A100", "arcade"),
    ("B200", "board"),
    ("C300", "card"),
    ("D400", "dice"),
    ("E500", "educational"),
    ("F600", "fighting"),
    ("G700", "golf"),
    ("H800", "horror"),
]


def normalise_sn(sn):
    return sn.strip().upper()


def anchor_matches(prefix, sn):
    # Serial numbers are compared as the devices send them: ASCII bytes.
    return sn.encode("ascii").startswith(prefix.encode("ascii"))


def next_candidate(index, size):
    # Wraps around to the start: the caller is expected to stop when the
    # serial number matches, which it never does for an unknown prefix.
    return (index + 1) % size


def get_gametype_anchor_by_sn(sn):
    """Returns the game type whose anchor prefix matches `sn`."""
    sn = normalise_sn(sn)
    start = 0
    found = None
    while found is None:
        for index, (prefix, gametype) in enumerate(GAMETYPE_ANCHORS[start:]):
            if anchor_matches(prefix, sn):
                found = gametype
                break
            start = next_candidate(index, len(GAMETYPE_ANCHORS))  # the endless loop spins here
    return found
