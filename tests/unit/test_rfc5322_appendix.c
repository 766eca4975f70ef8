/*
 * Every message of RFC 5322 Appendix A (A.1.1 through A.6.3), end to end:
 * header iterator -> per-field parser (addresses, dates, msg-ids) -> a
 * one-line summary per field, compared with the expected parse.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/rfc5322.h>

#include <stdio.h>

typedef struct summary {
    char text[2048];
    size_t len;
} summary;

static void add(summary *s, const char *p, size_t n)
{
    if (n > sizeof s->text - 1 - s->len) n = sizeof s->text - 1 - s->len;
    memcpy(s->text + s->len, p, n);
    s->len += n;
    s->text[s->len] = 0;
}

static void adds(summary *s, const char *p)
{
    add(s, p, strlen(p));
}

static int is_field(mw_slice name, const char *const *names)
{
    for (; *names; names++)
        if (mw_hdr_name_eq(name, *names)) return 1;
    return 0;
}

static void sum_addresses(summary *s, mw_slice v)
{
    mw_addr_list l;
    int rc = mw_addr_list_parse(v.base, v.len, NULL, NULL, &l);
    CHECK_INT(rc, MW_OK);
    size_t left_in_group = 0;
    for (size_t i = 0; i < l.count; i++) {
        const mw_addr *a = &l.items[i];
        if (i && !(left_in_group && a->group != (size_t)-1 &&
                   l.items[a->group].members == left_in_group))
            adds(s, ",");
        if (a->kind == MW_ADDR_GROUP) {
            add(s, a->display.base, a->display.len);
            adds(s, ":");
            left_in_group = a->members;
            if (!left_in_group) adds(s, ";");
            continue;
        }
        if (a->display.len) {
            add(s, a->display.base, a->display.len);
            adds(s, "<");
            add(s, a->addr_spec.base, a->addr_spec.len);
            adds(s, ">");
        } else {
            add(s, a->addr_spec.base, a->addr_spec.len);
        }
        if (a->flags) {
            char f[16];
            snprintf(f, sizeof f, "/%x", a->flags);
            adds(s, f);
        }
        if (left_in_group && --left_in_group == 0) adds(s, ";");
    }
    mw_addr_list_free(&l);
}

static void sum_date(summary *s, mw_slice v)
{
    mw_date d;
    CHECK_INT(mw_date_parse(v.base, v.len, &d), MW_OK);
    char buf[64];
    snprintf(buf, sizeof buf, "%lld%+d/%x", (long long)d.epoch, d.zone, d.flags);
    adds(s, buf);
}

static void sum_ids(summary *s, mw_slice v)
{
    mw_msgid_iter it;
    mw_msgid id;
    mw_msgid_iter_init(&it, v.base, v.len);
    int rc, n = 0;
    while ((rc = mw_msgid_iter_next(&it, &id)) == 1) {
        if (n++) adds(s, " ");
        add(s, id.id.base, id.id.len);
        if (id.flags) {
            char f[16];
            snprintf(f, sizeof f, "/%x", id.flags);
            adds(s, f);
        }
    }
    CHECK_INT(rc, 0);
}

static void summarize(const char *msg, summary *s, const char *body)
{
    static const char *const addr_fields[] = {"From",     "To",          "Cc",        "Sender",
                                              "Reply-To", "Resent-From", "Resent-To", NULL};
    static const char *const date_fields[] = {"Date", "Resent-Date", NULL};
    static const char *const id_fields[] = {"Message-ID", "In-Reply-To", "References",
                                            "Resent-Message-ID", NULL};
    mw_hdr_iter it;
    mw_hdr_field f;
    s->len = 0;
    s->text[0] = 0;
    size_t len = strlen(msg);
    mw_hdr_iter_init(&it, msg, len);
    while (mw_hdr_iter_next(&it, &f) == 1) {
        add(s, f.name.base, f.name.len);
        adds(s, "=");
        if (is_field(f.name, addr_fields)) {
            sum_addresses(s, f.value);
        } else if (is_field(f.name, date_fields)) {
            sum_date(s, f.value);
        } else if (is_field(f.name, id_fields)) {
            sum_ids(s, f.value);
        } else {
            char buf[512];
            mw_ssize n =
                mw_hdr_unfold(f.value.base, f.value.len, buf, sizeof buf, MW_HDR_UNFOLD_TRIM);
            CHECK(n >= 0);
            if (n >= 0) add(s, buf, (size_t)n);
        }
        if (f.defects) {
            char d[16];
            snprintf(d, sizeof d, " !%x", f.defects);
            adds(s, d);
        }
        adds(s, "\n");
    }
    size_t b = mw_hdr_iter_body(&it, NULL);
    CHECK_STR(msg + b, len - b, body);
}

static void check_message(const char *msg, const char *body, const char *expected)
{
    summary s;
    summarize(msg, &s, body);
    CHECK_STR(s.text, s.len, expected);
}

#define HELLO_BODY "This is a message just to say hello.\r\nSo, \"Hello\".\r\n"
#define A11_HEADER                                                                                 \
    "From: John Doe <jdoe@machine.example>\r\n"                                                    \
    "To: Mary Smith <mary@example.net>\r\n"                                                        \
    "Subject: Saying Hello\r\n"                                                                    \
    "Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"                                                    \
    "Message-ID: <1234@local.machine.example>\r\n"
#define A11_SUMMARY                                                                                \
    "From=John Doe<jdoe@machine.example>\n"                                                        \
    "To=Mary Smith<mary@example.net>\n"                                                            \
    "Subject=Saying Hello\n"                                                                       \
    "Date=880127706-360/0\n"                                                                       \
    "Message-ID=1234@local.machine.example\n"

static void test_a1(void)
{
    check_message(A11_HEADER "\r\n" HELLO_BODY, HELLO_BODY, A11_SUMMARY);
    check_message("From: John Doe <jdoe@machine.example>\r\n"
                  "Sender: Michael Jones <mjones@machine.example>\r\n"
                  "To: Mary Smith <mary@example.net>\r\n"
                  "\r\n" HELLO_BODY,
                  HELLO_BODY,
                  "From=John Doe<jdoe@machine.example>\n"
                  "Sender=Michael Jones<mjones@machine.example>\n"
                  "To=Mary Smith<mary@example.net>\n");
    check_message("From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
                  "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
                  "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
                  "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
                  "Message-ID: <5678.21-Nov-1997@example.com>\r\n"
                  "\r\n"
                  "Hi everyone.\r\n",
                  "Hi everyone.\r\n",
                  "From=Joe Q. Public<john.q.public@example.com>\n"
                  "To=Mary Smith<mary@x.test>,jdoe@example.org,Who?<one@y.test>\n"
                  "Cc=boss@nil.test,Giant; \"Big\" Box<sysservices@example.net>\n"
                  "Date=1057049557+120/0\n"
                  "Message-ID=5678.21-Nov-1997@example.com\n");
    check_message("From: Pete <pete@silly.example>\r\n"
                  "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;\r\n"
                  "Cc: Undisclosed recipients:;\r\n"
                  "Date: Thu, 13 Feb 1969 23:32:54 -0330\r\n"
                  "Message-ID: <testabcd.1234@silly.example>\r\n"
                  "\r\n"
                  "Testing.\r\n",
                  "Testing.\r\n",
                  "From=Pete<pete@silly.example>\n"
                  "To=A Group:Ed Jones<c@a.test>,joe@where.test,John<jdoe@one.test>;\n"
                  "Cc=Undisclosed recipients:;\n"
                  "Date=-27723426-210/0\n"
                  "Message-ID=testabcd.1234@silly.example\n");
}

static void test_a2(void)
{
    check_message("From: Mary Smith <mary@example.net>\r\n"
                  "To: John Doe <jdoe@machine.example>\r\n"
                  "Reply-To: \"Mary Smith: Personal Account\" <smith@home.example>\r\n"
                  "Subject: Re: Saying Hello\r\n"
                  "Date: Fri, 21 Nov 1997 10:01:10 -0600\r\n"
                  "Message-ID: <3456@example.net>\r\n"
                  "In-Reply-To: <1234@local.machine.example>\r\n"
                  "References: <1234@local.machine.example>\r\n"
                  "\r\n"
                  "This is a reply to your hello.\r\n",
                  "This is a reply to your hello.\r\n",
                  "From=Mary Smith<mary@example.net>\n"
                  "To=John Doe<jdoe@machine.example>\n"
                  "Reply-To=Mary Smith: Personal Account<smith@home.example>\n"
                  "Subject=Re: Saying Hello\n"
                  "Date=880128070-360/0\n"
                  "Message-ID=3456@example.net\n"
                  "In-Reply-To=1234@local.machine.example\n"
                  "References=1234@local.machine.example\n");
    check_message("To: \"Mary Smith: Personal Account\" <smith@home.example>\r\n"
                  "From: John Doe <jdoe@machine.example>\r\n"
                  "Subject: Re: Saying Hello\r\n"
                  "Date: Fri, 21 Nov 1997 11:00:00 -0600\r\n"
                  "Message-ID: <abcd.1234@local.machine.test>\r\n"
                  "In-Reply-To: <3456@example.net>\r\n"
                  "References: <1234@local.machine.example> <3456@example.net>\r\n"
                  "\r\n"
                  "This is a reply to your reply.\r\n",
                  "This is a reply to your reply.\r\n",
                  "To=Mary Smith: Personal Account<smith@home.example>\n"
                  "From=John Doe<jdoe@machine.example>\n"
                  "Subject=Re: Saying Hello\n"
                  "Date=880131600-360/0\n"
                  "Message-ID=abcd.1234@local.machine.test\n"
                  "In-Reply-To=3456@example.net\n"
                  "References=1234@local.machine.example 3456@example.net\n");
}

static void test_a3_a4(void)
{
    check_message("Resent-From: Mary Smith <mary@example.net>\r\n"
                  "Resent-To: Jane Brown <j-brown@other.example>\r\n"
                  "Resent-Date: Mon, 24 Nov 1997 14:22:01 -0800\r\n"
                  "Resent-Message-ID: <78910@example.net>\r\n" A11_HEADER "\r\n" HELLO_BODY,
                  HELLO_BODY,
                  "Resent-From=Mary Smith<mary@example.net>\n"
                  "Resent-To=Jane Brown<j-brown@other.example>\n"
                  "Resent-Date=880410121-480/0\n"
                  "Resent-Message-ID=78910@example.net\n" A11_SUMMARY);
    check_message("Received: from x.y.test\r\n"
                  "   by example.net\r\n"
                  "   via TCP\r\n"
                  "   with ESMTP\r\n"
                  "   id ABC12345\r\n"
                  "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\r\n"
                  "Received: from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600\r\n"
                  "From: John Doe <jdoe@node.example>\r\n"
                  "\r\n" HELLO_BODY,
                  HELLO_BODY,
                  "Received=from x.y.test   by example.net   via TCP   with ESMTP   id ABC12345"
                  "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\n"
                  "Received=from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600\n"
                  "From=John Doe<jdoe@node.example>\n");
}

static void test_a5(void)
{
    check_message(
        "From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\r\n"
        "To:A Group(Some people)\r\n"
        "     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
        "         joe@example.org,\r\n"
        "  John <jdoe@one.test> (my dear friend); (the end of the group)\r\n"
        "Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;\r\n"
        "Date: Thu,\r\n"
        "      13\r\n"
        "        Feb\r\n"
        "          1969\r\n"
        "      23:32\r\n"
        "               -0330 (Newfoundland Time)\r\n"
        "Message-ID:              <testabcd.1234@silly.test>\r\n"
        "\r\n"
        "Testing.\r\n",
        "Testing.\r\n",
        "From=Pete<pete@silly.test>/2000\n"
        "To=A Group:Chris Jones<c@public.example>/2000,joe@example.org,John<jdoe@one.test>/2000;\n"
        "Cc=Hidden recipients:;\n"
        "Date=-27723480-210/4\n"
        "Message-ID=testabcd.1234@silly.test\n");
}

static void test_a6(void)
{
    check_message("From: Joe Q. Public <john.q.public@example.com>\r\n"
                  "To: Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example\r\n"
                  "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
                  "Message-ID: <5678.21-Nov-1997@example.com>\r\n"
                  "\r\n"
                  "Hi everyone.\r\n",
                  "Hi everyone.\r\n",
                  "From=Joe Q. Public<john.q.public@example.com>/2\n"
                  "To=Mary Smith<mary@example.net>/1,jdoe@test.example/18\n"
                  "Date=1057049557+120/0\n"
                  "Message-ID=5678.21-Nov-1997@example.com\n");
    check_message("From: John Doe <jdoe@machine.example>\r\n"
                  "To: Mary Smith <mary@example.net>\r\n"
                  "Subject: Saying Hello\r\n"
                  "Date: 21 Nov 97 09:55:06 GMT\r\n"
                  "Message-ID: <1234@local.machine.example>\r\n"
                  "\r\n" HELLO_BODY,
                  HELLO_BODY,
                  "From=John Doe<jdoe@machine.example>\n"
                  "To=Mary Smith<mary@example.net>\n"
                  "Subject=Saying Hello\n"
                  "Date=880106106+0/52\n"
                  "Message-ID=1234@local.machine.example\n");
    check_message("From  : John Doe <jdoe@machine(comment).  example>\r\n"
                  "To    : Mary Smith\r\n"
                  "  \r\n"
                  "          <mary@example.net>\r\n"
                  "Subject     : Saying Hello\r\n"
                  "Date  : Fri, 21 Nov 1997 09(comment):   55  :  06 -0600\r\n"
                  "Message-ID  : <1234   @   local(blah)  .machine .example>\r\n"
                  "\r\n" HELLO_BODY,
                  HELLO_BODY,
                  "From=John Doe<jdoe@machine.example>/2008 !40\n"
                  "To=Mary Smith<mary@example.net> !240\n"
                  "Subject=Saying Hello !40\n"
                  "Date=880127706-360/200 !40\n"
                  "Message-ID=1234   @   local(blah)  .machine .example/1 !40\n");
}

int main(void)
{
    MW_RUN(test_a1);
    MW_RUN(test_a2);
    MW_RUN(test_a3_a4);
    MW_RUN(test_a5);
    MW_RUN(test_a6);
    return mw_test_finish();
}
