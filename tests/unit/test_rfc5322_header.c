/*
 * RFC 5322 header fields: iterator, defects, single-field parse, unfolding.
 * Messages are from RFC 5322 Appendix A (with CRLF line ends).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/rfc5322.h>

#include "rfc5322/rfc5322_internal.h"

#include <stdlib.h>

#define S(lit) lit, sizeof(lit) - 1

static int next(mw_hdr_iter *it, mw_hdr_field *f)
{
    return mw_hdr_iter_next(it, f);
}

static void test_appendix_a11(void)
{
    static const char msg[] = "From: John Doe <jdoe@machine.example>\r\n"
                              "To: Mary Smith <mary@example.net>\r\n"
                              "Subject: Saying Hello\r\n"
                              "Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
                              "Message-ID: <1234@local.machine.example>\r\n"
                              "\r\n"
                              "This is a message just to say hello.\r\n"
                              "So, \"Hello\".\r\n";
    static const char *names[] = {"From", "To", "Subject", "Date", "Message-ID"};
    static const char *values[] = {
        " John Doe <jdoe@machine.example>", " Mary Smith <mary@example.net>", " Saying Hello",
        " Fri, 21 Nov 1997 09:55:06 -0600", " <1234@local.machine.example>"};
    mw_hdr_iter it;
    mw_hdr_field f;
    CHECK_INT(mw_hdr_iter_init(&it, S(msg)), MW_OK);
    CHECK(mw_hdr_iter_body(&it, NULL) == (size_t)-1);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(next(&it, &f), 1);
        CHECK_STR(f.name.base, f.name.len, names[i]);
        CHECK_STR(f.value.base, f.value.len, values[i]);
        CHECK_INT(f.defects, 0);
        CHECK(f.raw.base[f.raw.len - 1] == '\n');
    }
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(next(&it, &f), 0);
    unsigned bd = 99;
    size_t body = mw_hdr_iter_body(&it, &bd);
    CHECK_INT(bd, 0);
    CHECK_STR(msg + body, sizeof msg - 1 - body,
              "This is a message just to say hello.\r\nSo, \"Hello\".\r\n");
}

static void test_appendix_a4_folded(void)
{
    static const char msg[] =
        "Received: from x.y.test\r\n"
        "   by example.net\r\n"
        "   via TCP\r\n"
        "   with ESMTP\r\n"
        "   id ABC12345\r\n"
        "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\r\n"
        "Received: from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600\r\n"
        "\r\n";
    mw_hdr_iter it;
    mw_hdr_field f;
    mw_hdr_iter_init(&it, S(msg));
    CHECK_INT(next(&it, &f), 1);
    CHECK(mw_hdr_name_eq(f.name, "received"));
    CHECK_STR(f.value.base, f.value.len,
              " from x.y.test\r\n   by example.net\r\n   via TCP\r\n   with ESMTP\r\n"
              "   id ABC12345\r\n   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600");
    CHECK_INT(f.defects, 0);
    char buf[256];
    mw_ssize n = mw_hdr_unfold(f.value.base, f.value.len, buf, sizeof buf, 0);
    CHECK_STR(buf, (size_t)n,
              " from x.y.test   by example.net   via TCP   with ESMTP   id ABC12345"
              "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600");
    n = mw_hdr_unfold(f.value.base, f.value.len, buf, sizeof buf, MW_HDR_UNFOLD_TRIM);
    CHECK_STR(buf, 13, "from x.y.test");
    CHECK_INT(n, 121);
    n = mw_hdr_unfold(f.value.base, f.value.len, buf, sizeof buf, 0);
    /* The zero-copy walk gives the same text piece by piece. */
    mw_slice rest = f.value, piece;
    size_t total = 0;
    int pieces = 0;
    while (mw_hdr_unfold_next(&rest, &piece) == 1) {
        CHECK(total + piece.len <= sizeof buf);
        CHECK_MEM(piece.base, piece.len, buf + total, piece.len);
        total += piece.len;
        pieces++;
    }
    CHECK_INT(total, n);
    CHECK_INT(pieces, 6);
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.value.base, f.value.len,
              " from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600");
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_body(&it, NULL), sizeof msg - 1);
}

static void test_appendix_a63_obsolete(void)
{
    static const char msg[] = "From  : John Doe <jdoe@machine(comment).  example>\r\n"
                              "To    : Mary Smith\r\n"
                              "  \r\n"
                              "          <mary@example.net>\r\n"
                              "Subject     : Saying Hello\r\n"
                              "\r\n"
                              "body";
    mw_hdr_iter it;
    mw_hdr_field f;
    mw_hdr_iter_init(&it, S(msg));
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.name.base, f.name.len, "From");
    CHECK_INT(f.defects, MW_HDR_DEFECT_WSP_COLON);
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.name.base, f.name.len, "To");
    CHECK_STR(f.value.base, f.value.len, " Mary Smith\r\n  \r\n          <mary@example.net>");
    CHECK_INT(f.defects, MW_HDR_DEFECT_WSP_COLON | MW_HDR_DEFECT_WSP_LINE);
    char buf[64];
    mw_ssize n = mw_hdr_unfold(f.value.base, f.value.len, buf, sizeof buf, MW_HDR_UNFOLD_TRIM);
    CHECK_STR(buf, (size_t)n, "Mary Smith            <mary@example.net>");
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.name.base, f.name.len, "Subject");
    CHECK_INT(next(&it, &f), 0);
    size_t body = mw_hdr_iter_body(&it, NULL);
    CHECK_STR(msg + body, sizeof msg - 1 - body, "body");
}

static unsigned one_defect(const char *block, size_t len)
{
    mw_hdr_iter it;
    mw_hdr_field f;
    mw_hdr_iter_init(&it, block, len);
    if (next(&it, &f) != 1) return 0xdead;
    return f.defects;
}

static void test_defects(void)
{
    CHECK_INT(one_defect(S("A: b\nC: d\n")), MW_HDR_DEFECT_BARE_LF);
    CHECK_INT(one_defect(S("A: b\rc\r\n")), MW_HDR_DEFECT_BARE_CR);
    CHECK_INT(one_defect(S("A: b\0c\r\n")), MW_HDR_DEFECT_NUL);
    CHECK_INT(one_defect(S("A: b\x01\r\n")), MW_HDR_DEFECT_CTL);
    CHECK_INT(one_defect(S("A: b\x7f\r\n")), MW_HDR_DEFECT_CTL);
    CHECK_INT(one_defect(S("A: \xff\r\n")), MW_HDR_DEFECT_8BIT);
    CHECK_INT(one_defect(S("A: \xc3\x28\r\n")), MW_HDR_DEFECT_8BIT);
    CHECK_INT(one_defect(S("A: \xed\xa0\x80\r\n")), MW_HDR_DEFECT_8BIT); /* surrogate */
    CHECK_INT(one_defect(S("A: J\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80\r\n")), MW_HDR_UTF8);
    CHECK_INT(one_defect(S("Subject: ok\r\n")), 0);
    CHECK_INT(one_defect(S("A b: c\r\n")), MW_HDR_DEFECT_BAD_NAME);
    CHECK_INT(one_defect(S(": c\r\n")), MW_HDR_DEFECT_BAD_NAME);
    CHECK_INT(one_defect(S("A\x80: c\r\n")), MW_HDR_DEFECT_BAD_NAME | MW_HDR_DEFECT_8BIT);
    CHECK_INT(one_defect(S("A: b")), MW_HDR_DEFECT_NO_EOL);
    CHECK_INT(one_defect(S("A\t: b\r\n")), MW_HDR_DEFECT_WSP_COLON);
    CHECK_INT(one_defect(S(" A: b\r\n")), MW_HDR_DEFECT_CONTINUATION);

    /* A line without a colon is delivered, not dropped. */
    mw_hdr_iter it;
    mw_hdr_field f;
    mw_hdr_iter_init(&it, S("just text\r\n more\r\nB: c\r\n\r\n"));
    CHECK_INT(next(&it, &f), 1);
    CHECK_INT(f.defects, MW_HDR_DEFECT_NO_COLON);
    CHECK_INT(f.name.len, 0);
    CHECK_STR(f.value.base, f.value.len, "just text\r\n more");
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.name.base, f.name.len, "B");

    /* 998 characters are fine, 999 are not (§2.1.1). */
    char line[1100];
    memset(line, 'x', sizeof line);
    memcpy(line, "X: ", 3);
    memcpy(line + 998, "\r\n", 2);
    CHECK_INT(one_defect(line, 1000), 0);
    memcpy(line + 998, "x\r\n", 3);
    CHECK_INT(one_defect(line, 1001), MW_HDR_DEFECT_LONG_LINE);
}

static void test_block_ends(void)
{
    mw_hdr_iter it;
    mw_hdr_field f;
    unsigned bd;
    /* No fields at all. */
    mw_hdr_iter_init(&it, S("\r\nbody"));
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_body(&it, &bd), 2);
    CHECK_INT(bd, 0);
    /* Empty buffer. */
    mw_hdr_iter_init(&it, NULL, 0);
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_body(&it, &bd), 0);
    CHECK_INT(bd, MW_HDR_BLOCK_NO_BODY);
    /* Header only, no empty line. */
    mw_hdr_iter_init(&it, S("A: b\r\nC: d\r\n"));
    CHECK_INT(next(&it, &f), 1);
    CHECK_INT(next(&it, &f), 1);
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_body(&it, &bd), 12);
    CHECK_INT(bd, MW_HDR_BLOCK_NO_BODY);
    /* Bare LF empty line ends the block too. */
    mw_hdr_iter_init(&it, S("A: b\n\nbody"));
    CHECK_INT(next(&it, &f), 1);
    CHECK_INT(f.defects, MW_HDR_DEFECT_BARE_LF);
    CHECK_STR(f.value.base, f.value.len, " b");
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_body(&it, NULL), 6);
    /* A folded last line with no line end. */
    mw_hdr_iter_init(&it, S("A: b\r\n c"));
    CHECK_INT(next(&it, &f), 1);
    CHECK_STR(f.value.base, f.value.len, " b\r\n c");
    CHECK_INT(f.defects, MW_HDR_DEFECT_NO_EOL);
    CHECK_INT(next(&it, &f), 0);
    CHECK_INT(mw_hdr_iter_init(NULL, "", 0), MW_ERR_INVALID);
    CHECK_INT(mw_hdr_iter_init(&it, NULL, 3), MW_ERR_INVALID);
    CHECK_INT(mw_hdr_iter_next(&it, NULL), MW_ERR_INVALID);
}

static void test_field_parse(void)
{
    mw_hdr_field f;
    CHECK_INT(mw_hdr_field_parse(S("Subject: a\r\n b\r\n"), &f), MW_OK);
    CHECK_STR(f.name.base, f.name.len, "Subject");
    CHECK_STR(f.value.base, f.value.len, " a\r\n b");
    CHECK_INT(f.raw.len, 16);
    CHECK_INT(f.defects, 0);
    CHECK_INT(mw_hdr_field_parse(S("Subject: a\r\n b"), &f), MW_OK);
    CHECK_INT(f.defects, MW_HDR_DEFECT_NO_EOL);
    CHECK_INT(mw_hdr_field_parse(S("Subject: a\n"), &f), MW_OK);
    CHECK_INT(f.defects, MW_HDR_DEFECT_BARE_LF);
    CHECK_STR(f.value.base, f.value.len, " a");
    /* Lines that are no folds inside one "field" are reported. */
    CHECK_INT(mw_hdr_field_parse(S("Subject: a\r\nX: b\r\n"), &f), MW_OK);
    CHECK(f.defects & MW_HDR_DEFECT_NO_COLON);
    CHECK_INT(mw_hdr_field_parse(S(""), &f), MW_OK);
    CHECK_INT(f.defects, MW_HDR_DEFECT_NO_COLON | MW_HDR_DEFECT_NO_EOL);
    CHECK_INT(mw_hdr_field_parse(NULL, 1, &f), MW_ERR_INVALID);

    /* Every field of a block classifies the same alone and in the block. */
    static const char block[] = "From  : a\r\nTo: b\r\n\tc\r\nX\xff: \xc3\xa9\r\nNo colon\r\nY: z";
    mw_hdr_iter it;
    mw_hdr_field a, b;
    mw_hdr_iter_init(&it, S(block));
    int n = 0;
    while (mw_hdr_iter_next(&it, &a) == 1) {
        CHECK_INT(mw_hdr_field_parse(a.raw.base, a.raw.len, &b), MW_OK);
        CHECK(a.name.base == b.name.base && a.name.len == b.name.len);
        CHECK(a.value.base == b.value.base && a.value.len == b.value.len);
        CHECK_INT(a.defects, b.defects);
        n++;
    }
    CHECK_INT(n, 5);
}

static void test_unfold(void)
{
    char buf[64];
    CHECK_INT(mw_hdr_unfold(S("a\r\n b"), buf, sizeof buf, 0), 3);
    CHECK_STR(buf, 3, "a b");
    /* A line end not followed by WSP is not a fold and stays. */
    CHECK_INT(mw_hdr_unfold(S("a\r\nb"), buf, sizeof buf, 0), 4);
    CHECK_INT(mw_hdr_unfold(S("a\n\tb"), buf, sizeof buf, 0), 3);
    CHECK_STR(buf, 3, "a\tb");
    CHECK_INT(mw_hdr_unfold(S("\r\n x \r\n "), buf, sizeof buf, 0), 4);
    CHECK_STR(buf, 4, " x  ");
    CHECK_INT(mw_hdr_unfold(S("\r\n x \r\n "), buf, sizeof buf, MW_HDR_UNFOLD_TRIM), 1);
    CHECK_INT(mw_hdr_unfold(S(" \r\n "), buf, sizeof buf, MW_HDR_UNFOLD_TRIM), 0);
    CHECK_INT(mw_hdr_unfold(S("abc"), buf, 2, 0), MW_ERR_BUFFER);
    CHECK_INT(mw_hdr_unfold(S("abc"), buf, 2, 0x80), MW_ERR_INVALID);
    /* In place. */
    char inplace[] = "one\r\n two\r\n\tthree";
    mw_ssize n = mw_hdr_unfold(inplace, sizeof inplace - 1, inplace, sizeof inplace, 0);
    CHECK_STR(inplace, (size_t)n, "one two\tthree");
    CHECK_INT(mw_hdr_unfold(NULL, 0, NULL, 0, 0), 0);
    CHECK_INT(mw_hdr_unfold(S("  "), NULL, 0, MW_HDR_UNFOLD_TRIM), 0);
    mw_slice rest = {NULL, 0}, piece;
    CHECK_INT(mw_hdr_unfold_next(&rest, &piece), 0);
    CHECK_INT(mw_hdr_unfold_next(NULL, &piece), MW_ERR_INVALID);
}

static void test_name_eq(void)
{
    mw_slice n = {"Content-Type", 12};
    CHECK(mw_hdr_name_eq(n, "content-type"));
    CHECK(mw_hdr_name_eq(n, "CONTENT-TYPE"));
    CHECK(!mw_hdr_name_eq(n, "content-typ"));
    CHECK(!mw_hdr_name_eq(n, "content-types"));
    CHECK(!mw_hdr_name_eq(n, NULL));
    mw_slice e = {"", 0};
    CHECK(mw_hdr_name_eq(e, ""));
}

static void test_char_classes(void)
{
    int vchar = 0, atext = 0, ftext = 0;
    for (int c = 0; c < 256; c++) {
        vchar += mw__is((unsigned char)c, MW__C_VCHAR);
        atext += mw__is((unsigned char)c, MW__C_ATEXT);
        ftext += mw__is((unsigned char)c, MW__C_FTEXT);
    }
    CHECK_INT(vchar, 94);
    CHECK_INT(atext, 62 + 19);
    CHECK_INT(ftext, 93);
}

/* Same fields whatever garbage surrounds them: a random block split into
 * lines must give fields whose raw parts tile the header exactly. */
static void test_random_tiling(void)
{
    uint64_t seed = 42;
    static const char alphabet[] = "ab: \t\r\n\x80\xc3\xa9()\0";
    char buf[300];
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(mw_test_rand(&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[mw_test_rand(&seed) % (sizeof alphabet - 1)];
        mw_hdr_iter it;
        mw_hdr_field f;
        mw_hdr_iter_init(&it, buf, len);
        size_t pos = 0;
        int rc;
        while ((rc = mw_hdr_iter_next(&it, &f)) == 1) {
            CHECK(f.raw.base == buf + pos);
            CHECK(f.value.base >= f.raw.base &&
                  f.value.base + f.value.len <= f.raw.base + f.raw.len);
            pos += f.raw.len;
        }
        CHECK_INT(rc, 0);
        size_t body = mw_hdr_iter_body(&it, NULL);
        CHECK(body >= pos && body <= len);
    }
}

/* Cutting the buffer anywhere changes no field that ended (with the byte
 * after it known) before the cut: the iterator needs no look-ahead beyond
 * one byte, which is what a streaming caller relies on. */
static void test_cut_anywhere(void)
{
    static const char msg[] =
        "From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\r\n"
        "To:A Group(Some people)\r\n"
        "     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
        "         joe@example.org,\r\n"
        "  John <jdoe@one.test> (my dear friend); (the end of the group)\r\n"
        "Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;\r\n"
        "Bad line\n"
        "X  : \xc3\xa9\r\n"
        "\r\n"
        "Testing.\r\n";
    mw_hdr_field all[16], f;
    size_t n = 0, len = sizeof msg - 1;
    mw_hdr_iter it;
    mw_hdr_iter_init(&it, msg, len);
    while (n < 16 && mw_hdr_iter_next(&it, &all[n]) == 1)
        n++;
    CHECK_INT(n, 5);
    size_t body = mw_hdr_iter_body(&it, NULL);
    for (size_t cut = 0; cut <= len; cut++) {
        mw_hdr_iter_init(&it, msg, cut);
        size_t i = 0;
        while (mw_hdr_iter_next(&it, &f) == 1) {
            size_t end = (size_t)(f.raw.base - msg) + f.raw.len;
            if (end < cut && i < n) {
                CHECK(f.raw.base == all[i].raw.base && f.raw.len == all[i].raw.len);
                CHECK(f.value.len == all[i].value.len);
                CHECK_INT(f.defects, all[i].defects);
            }
            i++;
        }
        if (cut >= body) CHECK_INT(mw_hdr_iter_body(&it, NULL), body);
    }
}

int main(void)
{
    MW_RUN(test_appendix_a11);
    MW_RUN(test_appendix_a4_folded);
    MW_RUN(test_appendix_a63_obsolete);
    MW_RUN(test_defects);
    MW_RUN(test_block_ends);
    MW_RUN(test_field_parse);
    MW_RUN(test_unfold);
    MW_RUN(test_name_eq);
    MW_RUN(test_char_classes);
    MW_RUN(test_random_tiling);
    MW_RUN(test_cut_anywhere);
    return mw_test_finish();
}
