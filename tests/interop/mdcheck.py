#!/usr/bin/python3
"""Maildir checks for the mw-smtpd interop tests.

mw-smtpd stores exactly the DATA content (after dot-unstuffing) behind two
trace fields it adds: "Return-Path: <from>" (one line) and "Received:"
(one line plus continuation lines starting with a tab). strip() removes
exactly those and nothing else, so every comparison below is byte-exact.

  mdcheck.py exact MAILDIR FILE [COUNT] [FROM]   COUNT messages equal FILE (default 1),
                                                 and nothing else is there
  mdcheck.py count MAILDIR COUNT                 COUNT messages in new/
  mdcheck.py source MAILDIR REF COUNT            smtp-source messages: equal to REF
                                                 except the Date: and Message-Id:
                                                 values; Message-Ids all different
Exit status 0 when the check holds; a reason is printed otherwise.
"""
import os
import re
import sys


def strip(data, want_from=None):
    """Remove the two trace fields mw-smtpd adds; fail loudly if absent."""
    line, sep, rest = data.partition(b"\r\n")
    if not sep or not line.startswith(b"Return-Path: <") or not line.endswith(b">"):
        raise ValueError("no Return-Path line first: %r" % data[:80])
    if want_from is not None and line != b"Return-Path: <" + want_from.encode() + b">":
        raise ValueError("Return-Path is %r, expected <%s>" % (line, want_from))
    if not rest.startswith(b"Received: "):
        raise ValueError("no Received field second: %r" % rest[:80])
    line, sep, rest = rest.partition(b"\r\n")
    while rest.startswith(b"\t"):
        line, sep, rest = rest.partition(b"\r\n")
    return rest


def messages(maildir):
    new = os.path.join(maildir, "new")
    if not os.path.isdir(new):
        return []
    out = []
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            data = f.read()
        # The ",S=" size in the name must be the file's size.
        m = re.search(r",S=(\d+)", name)
        if not m or int(m.group(1)) != len(data):
            raise ValueError("%s: size in the name does not match %d" % (name, len(data)))
        out.append((name, data))
    return out


def first_difference(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def cmd_exact(maildir, path, count="1", want_from=None):
    with open(path, "rb") as f:
        want = f.read()
    msgs = messages(maildir)
    good = 0
    for name, data in msgs:
        body = strip(data, want_from)
        if body == want:
            good += 1
        else:
            i = first_difference(body, want)
            print("%s differs at octet %d (got %d octets, expected %d): got %r, expected %r"
                  % (name, i, len(body), len(want), body[i:i + 40], want[i:i + 40]))
    if good != int(count) or len(msgs) != int(count):
        print("%s: %d exact copies among %d messages, expected %s" % (maildir, good, len(msgs), count))
        return 1
    return 0


def cmd_count(maildir, count):
    n = len(messages(maildir))
    if n != int(count):
        print("%s: %d messages, expected %s" % (maildir, n, count))
        return 1
    return 0


VARYING = re.compile(rb"^(Date|Message-Id): [^\r\n]*\r\n", re.M | re.I)


def normalise(body):
    """Blank the two header values smtp-source makes up per message."""
    return VARYING.sub(lambda m: m.group(1) + b": *\r\n", body, count=2)


def cmd_source(maildir, ref_path, count):
    with open(ref_path, "rb") as f:
        ref = f.read()
    want = normalise(ref)
    ids = set()
    bad = 0
    msgs = messages(maildir)
    for name, data in msgs:
        body = strip(data)
        m = re.search(rb"^Message-Id: ([^\r\n]*)\r\n", body, re.M | re.I)
        if m:
            ids.add(m.group(1))
        if normalise(body) != want:
            bad += 1
            if bad <= 3:
                i = first_difference(normalise(body), want)
                print("%s differs from the reference at octet %d" % (name, i))
    if len(msgs) != int(count) or bad or len(ids) != int(count):
        print("%s: %d messages (%d differ, %d distinct Message-Ids), expected %s"
              % (maildir, len(msgs), bad, len(ids), count))
        return 1
    return 0


def main(argv):
    cmds = {"exact": cmd_exact, "count": cmd_count, "source": cmd_source}
    if len(argv) < 3 or argv[1] not in cmds:
        print(__doc__)
        return 2
    try:
        return cmds[argv[1]](*argv[2:])
    except (ValueError, OSError) as e:
        print("mdcheck: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
