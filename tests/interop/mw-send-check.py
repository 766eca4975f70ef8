"""Checks for tests/interop/mw-send.sh (run with /usr/bin/python3).

  mw-send-check.py sink DUMP REF      an smtp-sink dump (-d) holds REF exactly:
                                      smtp-sink writes its own X-* lines and a
                                      Received field first, LF line ends, and one
                                      empty line after the content
  mw-send-check.py composed EML SUBJECT TEXTFILE ATTACHFILE
                                      a message mw-send composed: Subject, the
                                      text part and the attachment decode to
                                      exactly the given values / files
  mw-send-check.py freeport           print a free TCP port on 127.0.0.1
Exit status 0 when the check holds; a reason is printed otherwise.
"""
import email
import email.policy
import socket
import sys


def sink(dump, ref):
    data = open(dump, "rb").read()
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].startswith(b"X-"):
        i += 1
    if i >= len(lines) or not lines[i].startswith(b"Received: "):
        return "no Received field after the X- lines: %r" % data[:200]
    i += 1
    while i < len(lines) and lines[i].startswith(b"\t"):
        i += 1
    body = b"\n".join(lines[i:])
    want = open(ref, "rb").read().replace(b"\r\n", b"\n") + b"\n"
    if body != want:
        return "content differs: got %d octets, want %d; first difference at %d" % (
            len(body), len(want),
            next((k for k in range(min(len(body), len(want))) if body[k] != want[k]),
                 min(len(body), len(want))))
    return None


def composed(eml, subject, textfile, attachfile):
    raw = open(eml, "rb").read()
    if b"\r\n" not in raw or b"\n" in raw.replace(b"\r\n", b""):
        return "line ends are not all CRLF"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if str(msg["Subject"]) != subject:
        return "Subject %r != %r" % (str(msg["Subject"]), subject)
    if msg["Bcc"] is not None:
        return "a Bcc field was sent"
    text = open(textfile, "rb").read().decode().replace("\r\n", "\n")
    body = msg.get_body(preferencelist=("plain",))
    if body is None or body.get_content().replace("\r\n", "\n").rstrip("\n") != text.rstrip("\n"):
        return "text part differs: %r" % (body and body.get_content()[:80])
    atts = list(msg.iter_attachments())
    if len(atts) != 1:
        return "%d attachments, want 1" % len(atts)
    if atts[0].get_payload(decode=True) != open(attachfile, "rb").read():
        return "attachment differs"
    if atts[0].get_content_type() != "application/x-test":
        return "attachment type %s" % atts[0].get_content_type()
    return None


def main():
    cmd = sys.argv[1]
    if cmd == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    why = sink(*sys.argv[2:4]) if cmd == "sink" else composed(*sys.argv[2:6])
    if why:
        print("%s: %s" % (cmd, why))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
