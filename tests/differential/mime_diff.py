#!/usr/bin/env python3
"""Differential test: mw-mime against Python's email package.

    python3 mime_diff.py MW_MIME_BINARY [--count N] [--seed S] [--keep DIR]
                         [--vectors DIR]... [-v]

Generates a reproducible corpus of MIME messages (fixed seed, standard
library only) into a temporary directory (plus the .eml files of each
--vectors DIR, whose kind is "vector-NAME"), then compares, per message,
what `mw-mime show --json`, `mw-mime extract --all` and `mw-mime headers`
report with what email.message_from_bytes(..., policy=email.policy.default)
and walk() give: part tree shape, content types, charsets, filenames,
decoded bodies (byte-exact), the decoded Subject and the From/To/Cc
mailboxes (address and decoded display name).

Every difference is classified as (message kind, field). A difference whose
class is listed in known-differences.md (a "## kind / field" heading next to
this file) is explained; any other difference fails the test. Prints a
summary and ends with "N passed, N failed".
"""
import base64
import binascii
import email
import email.policy
import json
import os
import random
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"

# ---------------------------------------------------------------- generator

WORDS = ["mail", "wire", "parser", "boundary", "report", "quarterly", "meeting",
         "invoice", "budget", "hello", "world", "lorem", "ipsum", "dolor", "sit"]
# Non-ASCII text each charset can encode.
NON_ASCII = {
    "utf-8": ["café", "Grüße", "naïve", "日本語", "ε-δ", "€100", "emoji 🙂"],
    "iso-8859-1": ["café", "Grüße", "naïve", "señor", "½ price"],
    "windows-1252": ["café", "“quoted”", "€100", "Grüße", "em—dash"],
    "shift_jis": ["日本語", "メール", "テスト", "こんにちは"],
}
CHARSETS = list(NON_ASCII)
FILENAMES = ["report.pdf", "data.csv", "photo one.jpg", "résumé.pdf", "Grüße an alle.txt",
             "日本語のファイル名.doc", "a" * 90 + ".bin", "notes (final).txt", "x.tar.gz"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.nb = 0

    def boundary(self):
        self.nb += 1
        return "b%d_%s" % (self.nb, "".join(self.r.choice("abcdefXYZ0123456789=_.")
                                             for _ in range(self.r.randint(4, 24))))

    def text(self, charset, lines=None):
        out = []
        for _ in range(lines or self.r.randint(1, 8)):
            ws = [self.r.choice(WORDS) for _ in range(self.r.randint(1, 12))]
            if self.r.random() < 0.4:
                ws.insert(self.r.randint(0, len(ws)), self.r.choice(NON_ASCII[charset]))
            out.append(" ".join(ws))
        return "\n".join(out) + ("\n" if self.r.random() < 0.7 else "")

    def encode_body(self, data, cte, text):
        """data: bytes with LF line ends for text; returns the wire body (CRLF)."""
        if cte == "base64":
            if text:
                data = data.replace(b"\n", CRLF)
            enc = base64.b64encode(data)
            return CRLF.join(enc[i:i + 76] for i in range(0, len(enc), 76))
        if cte == "quoted-printable":
            if text:
                lines = data.split(b"\n")
                return CRLF.join(binascii.b2a_qp(ln).replace(b"=\n", b"=\r\n") for ln in lines)
            return binascii.b2a_qp(data, istext=False).replace(b"=\n", b"=\r\n")
        return data.replace(b"\n", CRLF)

    def filename_params(self, name, param):
        """Content-Disposition/-Type parameter text for a file name."""
        style = self.r.choice(["plain", "2231", "2231cont", "2047", "2231latin1"])
        try:
            name.encode("ascii")
            ascii_name = True
        except UnicodeEncodeError:
            ascii_name = False
        if style == "plain" and ascii_name:
            return '%s="%s"' % (param, name), "plain"
        if style == "2047":
            enc = base64.b64encode(name.encode("utf-8")).decode()
            return '%s="=?utf-8?B?%s?="' % (param, enc), "2047"
        if style == "2231latin1":
            try:
                raw = name.encode("iso-8859-1")
                pct = "".join(chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in ".-_") else "%%%02X" % b
                              for b in raw)
                return "%s*=iso-8859-1'fr'%s" % (param, pct), "2231"
            except UnicodeEncodeError:
                pass
        raw = name.encode("utf-8")
        pct = "".join(chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in ".-_") else "%%%02X" % b
                      for b in raw)
        if style == "2231cont" or len(pct) > 60:
            chunks = [pct[i:i + 30] for i in range(0, len(pct), 30)]
            # never split a %XX escape across segments
            fixed, carry = [], ""
            for c in chunks:
                c = carry + c
                cut = c.rfind("%", max(0, len(c) - 2))
                if cut != -1 and cut > len(c) - 3:
                    carry, c = c[cut:], c[:cut]
                else:
                    carry = ""
                fixed.append(c)
            if carry:
                fixed.append(carry)
            segs = ["%s*%d*=%s%s" % (param, i, "utf-8''" if i == 0 else "", c)
                    for i, c in enumerate(fixed) if c]
            return ";\r\n ".join(segs), "2231cont"
        return "%s*=utf-8''%s" % (param, pct), "2231"

    def subject(self):
        s = self.r.choice(["plain", "2047b", "2047q", "mixed", "long", "latin1"])
        text = " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(1, 6)))
        if s == "plain":
            return text.encode()
        if s == "long":
            return " ".join(self.r.choice(WORDS) for _ in range(30)).encode().replace(
                b" grape", b"\r\n grape")
        cs = self.r.choice(["utf-8", "iso-8859-1", "windows-1252"]) if s != "latin1" else "iso-8859-1"
        word = self.r.choice(NON_ASCII[cs])
        raw = word.encode(cs)
        if s == "2047q" or s == "latin1":
            q = "".join(chr(b) if (chr(b).isalnum() and b < 128) else
                        ("_" if b == 32 else "=%02X" % b) for b in raw)
            ew = "=?%s?Q?%s?=" % (cs, q)
        else:
            ew = "=?%s?B?%s?=" % (cs, base64.b64encode(raw).decode())
        if s == "mixed":
            return ("Re: %s %s end" % (ew, text)).encode()
        return ew.encode()

    def leaf(self, kind):
        r = self.r
        if kind == "text":
            sub = r.choice(["plain", "plain", "html"])
            cs = r.choice(CHARSETS)
            txt = self.text(cs)
            if sub == "html":
                txt = "<p>" + txt.replace("\n", "</p>\n<p>") + "</p>\n"
            data = txt.encode(cs)
            ascii_only = all(b < 128 for b in data)
            cte = r.choice(["7bit", "quoted-printable", "base64", "8bit"] if ascii_only
                           else ["quoted-printable", "base64", "8bit"])
            hdrs = [b"Content-Type: text/%s; charset=%s" % (sub.encode(), cs.encode())]
            if cte != "7bit" or r.random() < 0.5:
                hdrs.append(b"Content-Transfer-Encoding: " + cte.encode())
            return hdrs, self.encode_body(data, cte, True)
        # an attachment
        name = r.choice(FILENAMES)
        data = bytes(r.getrandbits(8) for _ in range(r.randint(0, 3000)))
        typ = r.choice(["application/octet-stream", "application/pdf", "image/png"])
        fn, _ = self.filename_params(name, "filename")
        hdrs = [b"Content-Type: " + typ.encode()]
        if r.random() < 0.3:
            nm, _ = self.filename_params(name, "name")
            hdrs[0] += b";\r\n " + nm.encode()
        hdrs.append(b"Content-Transfer-Encoding: base64")
        hdrs.append(b"Content-Disposition: " + r.choice([b"attachment", b"inline"]) +
                    b";\r\n " + fn.encode())
        return hdrs, self.encode_body(data, "base64", False)

    def entity(self, depth, maxdepth):
        """Return (header lines, body bytes) of a random entity."""
        r = self.r
        choice = r.random()
        if depth >= maxdepth or choice < 0.45:
            return self.leaf("text" if r.random() < 0.6 else "attach")
        if choice < 0.55 and depth + 1 < maxdepth:
            return self.forward(depth, maxdepth)
        sub = r.choice(["mixed", "alternative", "related", "mixed"])
        b = self.boundary()
        children = [self.entity(depth + 1, maxdepth) for _ in range(r.randint(1, 4))]
        return [b"Content-Type: multipart/%s; boundary=\"%s\"" % (sub.encode(), b.encode())], \
            self.multipart_body(b, children)

    def multipart_body(self, b, children, close=True):
        bb = b.encode()
        out = b""
        if self.r.random() < 0.3:
            out += b"This is a multi-part message in MIME format." + CRLF
        for h, body in children:
            out += b"--" + bb + CRLF + CRLF.join(h) + CRLF + CRLF + body + CRLF
        if close:
            out += b"--" + bb + b"--" + CRLF
            if self.r.random() < 0.2:
                out += b"epilogue text" + CRLF
        return out

    def forward(self, depth, maxdepth):
        inner_h, inner_b = self.entity(depth + 2, maxdepth)
        hdrs = [b"From: someone@example.org", b"Subject: " + self.subject()] + inner_h
        return [b"Content-Type: message/rfc822"], CRLF.join(hdrs) + CRLF + CRLF + inner_b

    def address(self):
        r = self.r
        local = r.choice(["ann", "bob.smith", "c-d_e", "x+tag"])
        dom = r.choice(["example.org", "mail.example.net", "[192.0.2.1]"])
        spec = "%s@%s" % (local, dom)
        style = r.choice(["bare", "angle", "atoms", "quoted", "2047", "comment", "quoted-local",
                          "2047-specials"])
        if r.random() < 0.04:  # malformed (RFC 2047 §5 (3)); see known-differences.md
            style = "2047-in-quotes"
        if style == "quoted-local":
            return '"john doe"@%s' % dom
        if style == "2047-specials":
            return "=?utf-8?q?Doe=2C_John?= <%s>" % spec
        if style == "2047-in-quotes":
            return '"=?utf-8?q?caf=C3=A9?=" <%s>' % spec
        if style == "bare":
            return spec
        if style == "angle":
            return "<%s>" % spec
        if style == "atoms":
            return "Ann Example <%s>" % spec
        if style == "quoted":
            return '"Example, Ann (Sales)" <%s>' % spec
        if style == "2047":
            cs = r.choice(["utf-8", "iso-8859-1"])
            word = r.choice(NON_ASCII[cs])
            return "=?%s?B?%s?= Example <%s>" % (cs, base64.b64encode(word.encode(cs)).decode(), spec)
        return "%s (the %s)" % (spec, r.choice(WORDS))

    def address_list(self):
        r = self.r
        items = [self.address() for _ in range(r.randint(1, 3))]
        if r.random() < 0.2:
            items.append("team: %s, %s;" % (self.address(), self.address()))
        if r.random() < 0.1:
            items.append("undisclosed-recipients:;")
        return ", ".join(items).encode()

    def top(self, hdrs, body):
        base = [b"From: " + self.address().encode(), b"To: " + self.address_list(),
                b"Cc: " + self.address_list(),
                b"Subject: " + self.subject(), b"Date: Thu, 26 Nov 2026 10:00:00 +0000",
                b"MIME-Version: 1.0"]
        return CRLF.join(base + hdrs) + CRLF + CRLF + body

    def message(self, kind):
        r = self.r
        if kind == "simple":
            return self.top(*self.leaf("text"))
        if kind == "alternative":
            b = self.boundary()
            return self.top([b"Content-Type: multipart/alternative; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, [self.leaf("text"), self.leaf("text")]))
        if kind == "related":
            b = self.boundary()
            html = ([b"Content-Type: text/html; charset=utf-8"], b"<img src=\"cid:x\">")
            img_h, img_b = self.leaf("attach")
            img_h.append(b"Content-ID: <x>")
            return self.top([b"Content-Type: multipart/related; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, [html, (img_h, img_b)]))
        if kind == "mixed":
            b = self.boundary()
            kids = [self.leaf("text")] + [self.leaf("attach") for _ in range(r.randint(1, 4))]
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids))
        if kind == "nested":
            b = self.boundary()
            kids = [self.entity(1, r.randint(3, 6)) for _ in range(r.randint(1, 4))]
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids))
        if kind == "forward":
            b = self.boundary()
            kids = [self.leaf("text"), self.forward(1, 4)]
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids))
        if kind == "missing-close-boundary":
            b = self.boundary()
            kids = [self.leaf("text"), self.leaf("attach")]
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids, close=False))
        if kind == "missing-boundary-param":
            return self.top([b"Content-Type: multipart/mixed"],
                            b"--x" + CRLF + CRLF + b"text" + CRLF + b"--x--" + CRLF)
        if kind == "bad-cte":
            h, body = self.leaf("text")
            h = [x for x in h if not x.startswith(b"Content-Transfer-Encoding")]
            h.append(b"Content-Transfer-Encoding: " + r.choice([b"x-bogus", b"uuencode", b"7-bit"]))
            return self.top(h, body)
        if kind == "lf-only":
            return self.message(r.choice(["simple", "mixed", "nested", "alternative"])).replace(
                CRLF, b"\n")
        if kind == "8bit-headers":
            cs = r.choice(["utf-8", "iso-8859-1"])
            msg = self.message(r.choice(["simple", "mixed"]))
            return re.sub(b"^Subject: [^\r]*", b"Subject: " + r.choice(NON_ASCII[cs]).encode(cs)
                          + b" raw", msg, count=1, flags=re.M)
        if kind == "truncated-base64":
            h, body = self.leaf("attach")
            cut = r.randint(1, 3)
            return self.top(h, body.rstrip(b"\r\n=")[:-cut] if len(body.rstrip(b"\r\n=")) > cut
                            else b"QQ")
        if kind == "unquoted-boundary":
            # '=' is a tspecial (RFC 2045 §5.1): this boundary should be quoted
            b = "ab=cd_" + self.boundary()
            return self.top([b"Content-Type: multipart/alternative; boundary=" + b.encode()],
                            self.multipart_body(b, [self.leaf("text"), self.leaf("text")]))
        if kind == "digest":
            b = self.boundary()
            kids = []
            for _ in range(r.randint(1, 4)):
                ih, ib = self.leaf("text")
                # no Content-Type: the default inside a digest is message/rfc822 (RFC 2046 §5.1.5)
                kids.append(([], CRLF.join([b"From: x@example.org", b"Subject: " + self.subject()]
                                           + ih) + CRLF + CRLF + ib))
            return self.top([b"Content-Type: multipart/digest; boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids))
        if kind == "qp-edge":
            body = r.choice([b"soft=\r\nbreak", b"trailing space   \r\nnext\t\r\n",
                             b"lower =c3=a9 hex", b"bad =ZZ escape", b"ends with =",
                             b"soft break then space=  \r\nx", b"=3D=3d equals",
                             b"line\r\n.\r\n=2E dot"])
            return self.top([b"Content-Type: text/plain; charset=utf-8",
                             b"Content-Transfer-Encoding: quoted-printable"], body + CRLF)
        if kind in ("boundary-prefix", "ambiguous-boundary"):
            outer = "ab"
            inner = "ab" + r.choice(["c", "-x", "_inner", "--"] if kind == "ambiguous-boundary"
                                    else ["c", "-x", "_inner"])
            kids = [([b"Content-Type: multipart/mixed; boundary=\"%s\"" % inner.encode()],
                     self.multipart_body(inner, [self.leaf("text"), self.leaf("attach")])),
                    self.leaf("text")]
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % outer.encode()],
                            self.multipart_body(outer, kids))
        if kind == "padding-delimiter":
            b = self.boundary()
            body = self.multipart_body(b, [self.leaf("text"), self.leaf("attach")])
            pad = r.choice([b" ", b"\t", b"  \t "])
            body = body.replace(b"--" + b.encode() + CRLF, b"--" + b.encode() + pad + CRLF)
            return self.top([b"Content-Type: multipart/mixed; boundary=\"%s\"" % b.encode()], body)
        if kind == "outlook-2047-name":
            name = r.choice(FILENAMES[3:6])
            ew = "=?utf-8?B?%s?=" % base64.b64encode(name.encode()).decode()
            data = bytes(r.getrandbits(8) for _ in range(r.randint(1, 500)))
            return self.top([b"Content-Type: application/octet-stream;\r\n name=\"%s\"" % ew.encode(),
                             b"Content-Transfer-Encoding: base64"],
                            self.encode_body(data, "base64", False))
        if kind == "subject-split":
            cs = r.choice(["utf-8", "shift_jis"])
            raw = r.choice(NON_ASCII["utf-8" if cs == "utf-8" else "shift_jis"]).encode(cs) * 2
            cut = r.randint(1, len(raw) - 1)
            words = ["=?%s?B?%s?=" % (cs, base64.b64encode(x).decode()) for x in (raw[:cut], raw[cut:])]
            subj = (words[0] + r.choice([" ", "\r\n ", "  "]) + words[1]).encode()
            return re.sub(b"^Subject: [^\r]*(\r\n[ \t][^\r]*)*", lambda _m: b"Subject: " + subj,
                          self.message("simple"), count=1, flags=re.M)
        if kind == "bad-content-type":
            h, body = self.leaf("text")
            h[0] = r.choice([b"Content-Type: text", b"Content-Type: ;charset=utf-8",
                             b"Content-Type: /plain", b"Content-Type: text/"])
            return self.top(h, body)
        if kind == "case-and-comments":
            b = self.boundary()
            kids = [([b"Content-Type: TEXT/Plain (comment); CHARSET=\"UTF-8\"",
                      b"Content-Transfer-Encoding: Quoted-Printable"], b"caf=C3=A9"),
                    ([b"Content-Type: Application/Octet-Stream",
                      b"Content-Transfer-Encoding: BASE64",
                      b"Content-Disposition: ATTACHMENT; FILENAME=\"Up.TXT\""], b"VVA=")]
            return self.top([b"Content-Type: Multipart/Mixed; Boundary=\"%s\"" % b.encode()],
                            self.multipart_body(b, kids))
        if kind == "base64-garbage":
            h, body = self.leaf("attach")
            lines = body.split(CRLF)
            for i in range(0, len(lines), max(1, len(lines) // 3)):
                lines[i] = lines[i][:10] + r.choice([b" ", b"\t", b"!", b"*", b"#"]) + lines[i][10:]
            return self.top(h, CRLF.join(lines))
        if kind == "mbox-from":
            # an mbox envelope line (RFC 4155) before the header block
            msg = self.message(r.choice(["simple", "mixed"]))
            line = b"From sender@example.org Thu Nov 26 23:00:00 2026"
            return line + (b"\n" + msg.replace(CRLF, b"\n") if r.random() < 0.5 else CRLF + msg)
        raise ValueError(kind)


KINDS = ["simple", "alternative", "related", "mixed", "nested", "forward",
         "missing-close-boundary", "missing-boundary-param", "bad-cte", "lf-only",
         "8bit-headers", "truncated-base64", "unquoted-boundary", "digest", "qp-edge",
         "boundary-prefix", "padding-delimiter", "outlook-2047-name", "subject-split",
         "bad-content-type", "case-and-comments", "base64-garbage", "ambiguous-boundary",
         "mbox-from"]


def corpus(seed, count):
    g = Gen(seed)
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        yield "%04d-%s.eml" % (i, kind), kind, g.message(kind)

# ---------------------------------------------------------------- the two views


def py_view(data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = []

    def visit(m, path):
        ctype = m.get_content_type()
        if m.is_multipart():
            kind = "message" if m.get_content_maintype() == "message" else "multipart"
        else:
            kind = "leaf"
        cs = m.get_content_charset() if m.get_content_maintype() == "text" else None
        if m.get_content_maintype() == "text" and kind == "leaf" and cs is None:
            cs = "us-ascii"
        fn = m.get_filename()
        cte = m.get("content-transfer-encoding")
        cte = str(cte).strip().lower() if cte is not None else "7bit"
        rec = {"path": path, "kind": kind, "type": ctype, "charset": cs, "filename": fn,
               "disposition": m.get_content_disposition(), "cte": cte,
               "body": m.get_payload(decode=True) if kind == "leaf" else None}
        parts.append(rec)
        if kind != "leaf":
            for i, sub in enumerate(m.get_payload()):
                visit(sub, (path + "." if path else "") + str(i + 1))

    visit(msg, "")
    subj = msg["subject"]
    addrs = []
    for field in ("from", "to", "cc"):
        h = msg[field]
        for a in (h.addresses if h is not None else ()):
            addrs.append((field, a.addr_spec, a.display_name or ""))
    return parts, (None if subj is None else str(subj).encode("utf-8", "surrogateescape")), addrs


def mw_view(binary, path, outdir):
    show = subprocess.run([binary, "show", "--json", path], capture_output=True)
    if show.returncode != 0:
        raise RuntimeError("show failed: %s" % show.stderr.decode(errors="replace"))
    parts = json.loads(show.stdout)
    os.makedirs(outdir)
    ex = subprocess.run([binary, "extract", "--all", path, outdir], capture_output=True)
    if ex.returncode != 0:
        raise RuntimeError("extract failed: %s" % ex.stderr.decode(errors="replace"))
    files = {}
    for line in ex.stdout.decode("utf-8", "surrogateescape").splitlines():
        p, name, _ = line.split("\t")
        files["" if p == "0" else p] = os.path.join(outdir, name.replace("\\x2d", "-"))
    for rec in parts:
        rec["body"] = None
        if rec["kind"] == "leaf":
            with open(files[rec["path"]], "rb") as f:
                rec["body"] = f.read()
    hd = subprocess.run([binary, "headers", path], capture_output=True)
    subj, addrs, field = None, [], None
    for line in hd.stdout.decode("utf-8", "surrogateescape").split("\n"):
        low = line.lower()
        if not line.startswith(" "):
            field = low.split(":", 1)[0] if ":" in low else None
        if low.startswith("subject: ") and subj is None:
            subj = line[9:].encode("utf-8", "surrogateescape")
        # ADDR may hold spaces in a quoted local part but always ends with
        # the domain, so a trailing quoted string is the display name
        mt = re.match(r'^ +mailbox (.+?)(?: "((?:[^"\\]|\\.)*)")?$', line)
        if mt and field in ("from", "to", "cc"):
            disp = re.sub(r"\\(.)", r"\1", mt.group(2) or "")
            addrs.append((field, mt.group(1), disp))
    return parts, subj, addrs


def compare(kind, py, mw):
    """Yield (field, detail, python_part, mailwire_part) differences."""
    ppy, spy, apy = py
    pmw, smw, amw = mw
    if len(apy) != len(amw):
        yield "addresses", "python %r / mailwire %r" % (apy, amw), apy, amw
    else:
        for a, b in zip(apy, amw):
            if a != b:
                yield "addresses", "python %r / mailwire %r" % (a, b), a, b
    shape_py = [(p["path"], p["kind"]) for p in ppy]
    shape_mw = [(p["path"], p["kind"]) for p in pmw]
    if shape_py != shape_mw:
        yield "shape", "python %s / mailwire %s" % (shape_py, shape_mw), shape_py, shape_mw
    mw_by_path = {p["path"]: p for p in pmw}
    for p in ppy:
        m = mw_by_path.get(p["path"])
        if m is None:
            continue
        where = p["path"] or "0"
        if p["type"] != m["type"]:
            yield "type", "%s: python %s / mailwire %s" % (where, p["type"], m["type"]), p, m
        if p["kind"] == "leaf" and m["kind"] == "leaf" and p["charset"] != m["charset"]:
            yield "charset", "%s: python %r / mailwire %r" % (where, p["charset"], m["charset"]), p, m
        if (p["disposition"] or None) != (m["disposition"] or None):
            yield "disposition", "%s: python %r / mailwire %r" % (
                where, p["disposition"], m["disposition"]), p, m
        if p["kind"] == "leaf" and m["kind"] == "leaf" and p["cte"] != m["cte"]:
            yield "cte", "%s: python %r / mailwire %r" % (where, p["cte"], m["cte"]), p, m
        if (p["filename"] or None) != (m["filename"] or None):
            yield "filename", "%s: python %r / mailwire %r" % (where, p["filename"], m["filename"]), p, m
        if p["body"] is not None and m["body"] is not None and p["body"] != m["body"]:
            yield "body", "%s: python %d bytes / mailwire %d bytes" % (
                where, len(p["body"]), len(m["body"])), p, m
    if (spy or b"") != (smw or b""):
        yield "subject", "python %r / mailwire %r" % (spy, smw), spy, smw


# ---------------------------------------------------------------- explained classes
# An explained difference still has to show mailwire doing exactly what
# known-differences.md says; otherwise it counts as unexplained.

def _body_of(data):
    return data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else data.split(b"\n\n", 1)[1]


def _subject_words(data):
    m = re.search(rb"^Subject: (.*?)\r\n(?![ \t])", data, re.M | re.S)
    return re.findall(rb"=\?([^?]+)\?[Bb]\?([^?]*)\?=", m.group(1))


def address_class(pv, mv):
    """Sub-class of an address difference (the message kind says nothing here)."""
    if isinstance(pv, tuple) and isinstance(mv, tuple) and pv[:2] == mv[:2]:
        if re.search(r"=\?[^?]+\?[bBqQ]\?", mv[2]) and "=?" not in pv[2]:
            return "2047-display"
        return "display"
    return "entries"


def check_explained(kind, field, data, pv, mv):
    if (kind, field) == ("address", "2047-display"):
        # the encoded word stood inside a quoted string: kept, not decoded
        quoted = '"%s"' % mv[2]
        return quoted.encode() in data
    if (kind, field) == ("truncated-base64", "body"):
        clean = b"".join(_body_of(data).split())
        return pv["body"] == clean and mv["body"] == base64.b64decode(clean[:len(clean) // 4 * 4])
    if (kind, field) == ("unquoted-boundary", "shape"):
        return pv == [("", "leaf")] and mv == [("", "multipart"), ("1", "leaf"), ("2", "leaf")]
    if (kind, field) == ("case-and-comments", "type"):
        return re.sub(r"\s*\(.*\)", "", pv["type"]) == mv["type"]
    if (kind, field) == ("bad-content-type", "type"):
        return mv["type"] == "text/plain"
    if (kind, field) == ("bad-content-type", "charset"):
        return mv["charset"] == "us-ascii" and pv["type"] != "text/plain"
    if (kind, field) == ("qp-edge", "body"):
        lines = _body_of(data).split(b"\r\n")
        return mv["body"] == binascii.a2b_qp(b"\r\n".join(ln.rstrip(b" \t") for ln in lines))
    if (kind, field) == ("subject-split", "subject"):
        words = _subject_words(data)
        joined = b"".join(base64.b64decode(w) for _, w in words)
        return mv == joined.decode(words[0][0].decode()).encode("utf-8")
    if (kind, field) == ("vector-dsn", "shape"):
        return [p for p in pv if p[1] == "message"] == [("2", "message")] and \
            ("2", "leaf") in mv and len(mv) == 4
    if (kind, field) == ("vector-names", "filename"):
        return mv["filename"] == " . .. spaced name  " and pv["filename"] == mv["filename"].strip()
    if (kind, field) == ("ambiguous-boundary", "shape"):
        return [pth for pth, _ in mv][:4] == ["", "1", "1.1", "1.2"] and mv[1][1] == "multipart"
    return False


def known_classes():
    known = set()
    with open(os.path.join(HERE, "known-differences.md"), encoding="utf-8") as f:
        for line in f:
            mt = re.match(r"^## (\S+) / (\S+)\s*$", line)
            if mt:
                known.add((mt.group(1), mt.group(2)))
    return known


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    binary = args[0]
    count, seed, keep, verbose = 460, 20261126, None, False
    extra_dirs = []
    i = 1
    while i < len(args):
        if args[i] == "--count":
            count = int(args[i + 1]); i += 1
        elif args[i] == "--seed":
            seed = int(args[i + 1]); i += 1
        elif args[i] == "--keep":
            keep = args[i + 1]; i += 1
        elif args[i] == "--vectors":
            extra_dirs.append(args[i + 1]); i += 1
        elif args[i] == "-v":
            verbose = True
        i += 1
    extra = []
    for d in extra_dirs:
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".eml"):
                with open(os.path.join(d, fn), "rb") as f:
                    extra.append(("vector-" + fn, "vector-" + fn[:-4], f.read()))
    known = known_classes()
    work = keep or tempfile.mkdtemp(prefix="mw-mime-diff-")
    os.makedirs(work, exist_ok=True)
    msgs = parts = naddr = 0
    by_class, unexplained, errors = {}, [], []
    for name, kind, data in list(corpus(seed, count)) + extra:
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            py = py_view(data)
            mw = mw_view(binary, path, path + ".d")
        except Exception as e:  # a crash or a failing run is a failure
            errors.append("%s: %s" % (name, e))
            continue
        msgs += 1
        parts += len(py[0])
        naddr += len(py[2])
        for field, detail, pv, mv in compare(kind, py, mw):
            k = kind
            if field == "addresses":  # classified by what differs, not by message kind
                k, field = "address", address_class(pv, mv)
            by_class[(k, field)] = by_class.get((k, field), 0) + 1
            if (k, field) not in known:
                unexplained.append("%s: %s: %s" % (name, field, detail))
            elif not check_explained(k, field, data, pv, mv):
                unexplained.append("%s: %s: %s (listed, but not the documented behaviour)"
                                   % (name, field, detail))
            elif verbose:
                print("explained %s: %s: %s" % (name, field, detail))
    if not keep:
        subprocess.run(["rm", "-rf", work])
    print("messages compared: %d (generated corpus of %d, seed %d; %d committed vectors)"
          % (msgs, count, seed, len(extra)))
    print("parts compared: %d" % parts)
    print("From/To/Cc addresses compared: %d" % naddr)
    total = sum(by_class.values())
    print("differences: %d (%d explained in known-differences.md and checked, %d unexplained)"
          % (total, total - len(unexplained), len(unexplained)))
    for (k, fld), n in sorted(by_class.items()):
        print("  %-28s %-9s %4d %s" % (k, fld, n, "explained" if (k, fld) in known else "UNEXPLAINED"))
    for line in errors + unexplained[:50]:
        print("FAIL: " + line)
    bad_msgs = len({u.split(":")[0] for u in unexplained}) + len(errors)
    failed = len(errors) + len(unexplained)
    print("%d passed, %d failed" % (count + len(extra) - bad_msgs, bad_msgs))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
