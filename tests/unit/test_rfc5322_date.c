/*
 * RFC 5322 dates (§3.3, §4.3) and message identifiers (§3.6.4).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/rfc5322.h>

#include <stdlib.h>

#define S(lit) lit, sizeof(lit) - 1

static mw_date parse_ok(const char *s)
{
    mw_date d;
    int rc = mw_date_parse(s, strlen(s), &d);
    if (rc != MW_OK) mw_test_fail(__FILE__, __LINE__, "parse of \"%s\" gave %d", s, rc);
    return d;
}

static void check_fields(const mw_date *d, int y, int mo, int day, int h, int mi, int s, int zone)
{
    CHECK_INT(d->year, y);
    CHECK_INT(d->month, mo);
    CHECK_INT(d->day, day);
    CHECK_INT(d->hour, h);
    CHECK_INT(d->minute, mi);
    CHECK_INT(d->second, s);
    CHECK_INT(d->zone, zone);
}

static void test_appendix_dates(void)
{
    mw_date d = parse_ok(" Fri, 21 Nov 1997 09:55:06 -0600");
    check_fields(&d, 1997, 11, 21, 9, 55, 6, -360);
    CHECK_INT(d.wday, 5);
    CHECK_INT(d.epoch, 880127706);
    CHECK_INT(d.flags, 0);

    d = parse_ok(" Tue, 1 Jul 2003 10:52:37 +0200");
    check_fields(&d, 2003, 7, 1, 10, 52, 37, 120);
    CHECK_INT(d.flags, 0);

    d = parse_ok(" Thu, 13 Feb 1969 23:32:54 -0330");
    check_fields(&d, 1969, 2, 13, 23, 32, 54, -210);
    CHECK_INT(d.epoch, -27723480 + 54);
    CHECK_INT(d.flags, 0);

    /* A.5: folding everywhere, no seconds, a comment at the end. */
    d = parse_ok("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
                 "               -0330 (Newfoundland Time)");
    check_fields(&d, 1969, 2, 13, 23, 32, 0, -210);
    CHECK_INT(d.epoch, -27723480);
    CHECK_INT(d.wday, 4);
    CHECK_INT(d.flags, MW_DATE_F_NO_SECONDS);

    /* A.6.2: two-digit year and a named zone. */
    d = parse_ok(" 21 Nov 97 09:55:06 GMT");
    check_fields(&d, 1997, 11, 21, 9, 55, 6, 0);
    CHECK_INT(d.wday, -1);
    CHECK_INT(d.epoch, 880106106);
    CHECK_INT(d.flags, MW_DATE_F_NO_WDAY | MW_DATE_F_YEAR_2DIGIT | MW_DATE_F_OBS_ZONE);

    /* A.6.3: comments and spaces inside the time. */
    d = parse_ok(" Fri, 21 Nov 1997 09(comment):   55  :  06 -0600");
    check_fields(&d, 1997, 11, 21, 9, 55, 6, -360);
    CHECK_INT(d.epoch, 880127706);
    CHECK_INT(d.flags, MW_DATE_F_CFWS);
}

static void test_zones(void)
{
    static const struct {
        const char *zone;
        int minutes;
        unsigned flags;
    } z[] = {
        {"+0000", 0, 0},
        {"-0000", 0, MW_DATE_F_UNKNOWN_ZONE},
        {"+0530", 330, 0},
        {"-0930", -570, 0},
        {"+9959", 5999, 0},
        {"UT", 0, MW_DATE_F_OBS_ZONE},
        {"GMT", 0, MW_DATE_F_OBS_ZONE},
        {"gmt", 0, MW_DATE_F_OBS_ZONE},
        {"EST", -300, MW_DATE_F_OBS_ZONE},
        {"EDT", -240, MW_DATE_F_OBS_ZONE},
        {"CST", -360, MW_DATE_F_OBS_ZONE},
        {"CDT", -300, MW_DATE_F_OBS_ZONE},
        {"MST", -420, MW_DATE_F_OBS_ZONE},
        {"MDT", -360, MW_DATE_F_OBS_ZONE},
        {"PST", -480, MW_DATE_F_OBS_ZONE},
        {"PDT", -420, MW_DATE_F_OBS_ZONE},
        {"Z", 0, MW_DATE_F_OBS_ZONE | MW_DATE_F_MILITARY_ZONE | MW_DATE_F_UNKNOWN_ZONE},
        {"A", 0, MW_DATE_F_OBS_ZONE | MW_DATE_F_MILITARY_ZONE | MW_DATE_F_UNKNOWN_ZONE},
        {"m", 0, MW_DATE_F_OBS_ZONE | MW_DATE_F_MILITARY_ZONE | MW_DATE_F_UNKNOWN_ZONE},
        {"Y", 0, MW_DATE_F_OBS_ZONE | MW_DATE_F_MILITARY_ZONE | MW_DATE_F_UNKNOWN_ZONE},
    };
    for (size_t i = 0; i < sizeof z / sizeof z[0]; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "Sat, 1 Jan 2000 12:00:00 %s", z[i].zone);
        mw_date d;
        CHECK_INT(mw_date_parse(buf, (size_t)n, &d), MW_OK);
        CHECK_INT(d.zone, z[i].minutes);
        CHECK_INT(d.flags, z[i].flags);
        CHECK_INT(d.epoch, 946728000 - (int64_t)z[i].minutes * 60);
    }
    static const char *bad[] = {"J",     "j",    "XYZ", "+000", "+00000",
                                "+0060", "0000", "",    "+",    "EST5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "Sat, 1 Jan 2000 12:00:00 %s", bad[i]);
        mw_date d;
        CHECK_INT(mw_date_parse(buf, (size_t)n, &d), MW_ERR_SYNTAX);
    }
}

static void test_years(void)
{
    mw_date d = parse_ok("1 Jan 49 00:00 +0000");
    CHECK_INT(d.year, 2049);
    d = parse_ok("1 Jan 50 00:00 +0000");
    CHECK_INT(d.year, 1950);
    d = parse_ok("1 Jan 00 00:00 +0000");
    CHECK_INT(d.year, 2000);
    d = parse_ok("1 Jan 99 00:00 +0000");
    CHECK_INT(d.year, 1999);
    d = parse_ok("1 Jan 103 00:00 +0000");
    CHECK_INT(d.year, 2003);
    CHECK_INT(d.flags, MW_DATE_F_NO_WDAY | MW_DATE_F_YEAR_3DIGIT | MW_DATE_F_NO_SECONDS);
    d = parse_ok("1 Jan 9999 23:59:59 +0000");
    CHECK_INT(d.year, 9999);
    d = parse_ok("1 Jan 1900 00:00:00 +0000");
    CHECK_INT(d.epoch, -2208988800LL);
    /* Leap years. */
    parse_ok("29 Feb 2024 00:00 +0000");
    parse_ok("29 Feb 2000 00:00 +0000");
    mw_date x;
    CHECK_INT(mw_date_parse(S("29 Feb 1900 00:00 +0000"), &x), MW_ERR_SYNTAX);
    CHECK_INT(mw_date_parse(S("29 Feb 2023 00:00 +0000"), &x), MW_ERR_SYNTAX);
}

static void test_invalid(void)
{
    static const char *bad[] = {
        "30 Feb 2024 00:00 +0000", /* no such day */
        "31 Apr 2024 00:00 +0000",
        "0 Jan 2024 00:00 +0000",
        "1 Jan 2024 24:00 +0000", /* hour 24 */
        "1 Jan 2024 23:60 +0000", /* minute 60 */
        "1 Jan 2024 23:59:61 +0000",
        "1 Foo 2024 00:00 +0000",      /* month */
        "Fry, 1 Jan 2024 00:00 +0000", /* day name */
        "Mon 1 Jan 2024 00:00 +0000",  /* missing comma */
        "1 Jan 1899 00:00 +0000",      /* before 1900 */
        "1 Jan 10000 00:00 +0000",     /* more than 4 digits */
        "1 Jan 7 00:00 +0000",         /* one-digit year */
        "1 Jan 2024 0:00 +0000",       /* one-digit hour */
        "1 Jan 2024 00:0 +0000",
        "1 Jan 2024 00:00",         /* no zone */
        "1 Jan 2024 00:00 +0000 x", /* junk after the zone */
        "123 Jan 2024 00:00 +0000",
        "1 Jan 2024 00:00 +0000 (open", /* unterminated comment */
        "",
        "Mon,",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mw_date d;
        d.year = 77;
        int rc = mw_date_parse(bad[i], strlen(bad[i]), &d);
        if (rc != MW_ERR_SYNTAX) mw_test_fail(__FILE__, __LINE__, "\"%s\" gave %d", bad[i], rc);
        CHECK_INT(d.year, 0);
    }
    char deep[200];
    memset(deep, '(', 100);
    memset(deep + 100, ')', 100);
    mw_date d;
    CHECK_INT(mw_date_parse(deep, sizeof deep, &d), MW_ERR_LIMIT);
    CHECK_INT(mw_date_parse(NULL, 1, &d), MW_ERR_INVALID);
    CHECK_INT(mw_date_parse(NULL, 0, &d), MW_ERR_SYNTAX);
    mw_msgid_iter it;
    mw_msgid m;
    CHECK_INT(mw_msgid_iter_init(&it, NULL, 0), MW_OK);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 0);
    CHECK_INT(mw_date_parse("x", 1, NULL), MW_ERR_INVALID);
}

static void test_flags(void)
{
    mw_date d = parse_ok("Mon, 21 Nov 1997 09:55:06 -0600");
    CHECK_INT(d.flags, MW_DATE_F_WDAY_MISMATCH);
    CHECK_INT(d.wday, 1);
    d = parse_ok("sat, 31 dec 2016 23:59:60 +0000");
    CHECK_INT(d.flags, MW_DATE_F_LEAP_SECOND);
    CHECK_INT(d.second, 60);
    CHECK_INT(d.epoch, 1483228800);
    d = parse_ok("(c) Fri (d) , (e) 21 (f) Nov (g) 1997 (h) 09:55:06 (i) -0600 (j)");
    CHECK_INT(d.flags, MW_DATE_F_CFWS);
    CHECK_INT(d.epoch, 880127706);
    d = parse_ok("21Nov97 09:55:06 GMT"); /* obs-day / obs-year allow no space */
    CHECK_INT(d.epoch, 880106106);
}

static void test_format(void)
{
    char out[40];
    CHECK_INT(mw_date_format(0, 0, out, sizeof out), 31);
    CHECK_MEM(out, 32, "Thu, 01 Jan 1970 00:00:00 +0000", 32);
    CHECK_INT(mw_date_format(1795734300, 0, out, sizeof out), 31);
    CHECK_STR(out, 31, "Thu, 26 Nov 2026 23:05:00 +0000");
    CHECK_INT(mw_date_format(880127706, -360, out, sizeof out), 31);
    CHECK_STR(out, 31, "Fri, 21 Nov 1997 09:55:06 -0600");
    CHECK_INT(mw_date_format(-27723480, -210, out, sizeof out), 31);
    CHECK_STR(out, 31, "Thu, 13 Feb 1969 23:32:00 -0330");
    CHECK_INT(mw_date_format(-1, 0, out, sizeof out), 31);
    CHECK_STR(out, 31, "Wed, 31 Dec 1969 23:59:59 +0000");
    CHECK_INT(mw_date_format(951782400, 0, out, sizeof out), 31);
    CHECK_STR(out, 31, "Tue, 29 Feb 2000 00:00:00 +0000");
    CHECK_INT(mw_date_format(0, 0, out, 31), MW_ERR_BUFFER);
    CHECK_INT(mw_date_format(0, 6000, out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_date_format(-2208988801LL, 0, out, sizeof out), MW_ERR_INVALID);  /* 1899 */
    CHECK_INT(mw_date_format(253402300800LL, 0, out, sizeof out), MW_ERR_INVALID); /* 10000 */
    CHECK_INT(mw_date_format(INT64_MAX, 0, out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_date_format(INT64_MIN, 0, out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_date_to_epoch(2026, 11, 26, 23, 5, 0), 1795734300);
}

/* format -> parse gives the same instant, zone and day of week. */
static void test_round_trip(void)
{
    uint64_t seed = 1;
    for (int i = 0; i < 20000; i++) {
        int64_t lo = -2208988800LL + 6000 * 60, hi = 253402300799LL - 6000 * 60;
        int64_t epoch = lo + (int64_t)(mw_test_rand(&seed) % (uint64_t)(hi - lo));
        int zone = (int)(mw_test_rand(&seed) % 11999) - 5999;
        char out[32];
        CHECK_INT(mw_date_format(epoch, zone, out, sizeof out), 31);
        mw_date d;
        CHECK_INT(mw_date_parse(out, 31, &d), MW_OK);
        CHECK_INT(d.epoch, epoch);
        CHECK_INT(d.zone, zone);
        CHECK_INT(d.flags & MW_DATE_F_WDAY_MISMATCH, 0);
    }
}

/* Random valid dates written with random CFWS and obsolete forms parse to
 * the instant they were built from. */
static void test_generated_dates(void)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *const ws[] = {" ", "  ", "\r\n ", " (c) ", "(x(y))", "\t"};
    static const struct {
        const char *name;
        int minutes;
    } zones[] = {{"GMT", 0}, {"EST", -300}, {"PDT", -420}, {"+0130", 90}, {"-1100", -660}};
    uint64_t seed = 5;
    for (int i = 0; i < 5000; i++) {
        int64_t epoch = (int64_t)(mw_test_rand(&seed) % 4102444800ull); /* 1970..2100 */
        int zi = (int)(mw_test_rand(&seed) % 5);
        int zone = zones[zi].minutes;
        int64_t local = epoch + zone * 60;
        char canon[32];
        CHECK_INT(mw_date_format(epoch, zone, canon, sizeof canon), 31);
        /* Take the fields back from the canonical text, then rewrite them. */
        int day = (canon[5] - '0') * 10 + (canon[6] - '0');
        int year = atoi(canon + 12);
        int wday = (int)(((local >= 0 ? local / 86400 : -((-local + 86399) / 86400)) % 7 + 11) % 7);
        char mon[4] = {canon[8], canon[9], canon[10], 0};
        int month = 0;
        for (int m = 0; m < 12; m++)
            if (strcmp(mon, months[m]) == 0) month = m;
        char buf[256];
        const char *w[8];
        for (int k = 0; k < 8; k++)
            w[k] = ws[mw_test_rand(&seed) % 6];
        int two_digit = year >= 1950 && year < 2050 && (mw_test_rand(&seed) & 1);
        char ybuf[8];
        snprintf(ybuf, sizeof ybuf, two_digit ? "%02d" : "%d", two_digit ? year % 100 : year);
        int n = snprintf(buf, sizeof buf, "%s%s,%s%d%s%s%s%s%s%.2s:%.2s:%.2s%s%s", w[0], days[wday],
                         w[1], day, w[2], months[month], w[3], ybuf, w[4], canon + 17, canon + 20,
                         canon + 23, w[5], zones[zi].name);
        mw_date d;
        CHECK_INT(mw_date_parse(buf, (size_t)n, &d), MW_OK);
        CHECK_INT(d.epoch, epoch);
        CHECK_INT(d.zone, zone);
        CHECK_INT(d.flags & MW_DATE_F_WDAY_MISMATCH, 0);
        CHECK_INT(!!(d.flags & MW_DATE_F_YEAR_2DIGIT), two_digit);
    }
}

/* ---- message identifiers ---- */

static void test_msgid(void)
{
    mw_msgid_iter it;
    mw_msgid m;
    CHECK_INT(mw_msgid_iter_init(&it, S(" <1234@local.machine.example>")), MW_OK);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "1234@local.machine.example");
    CHECK_STR(m.left.base, m.left.len, "1234");
    CHECK_STR(m.right.base, m.right.len, "local.machine.example");
    CHECK_INT(m.flags, 0);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 0);

    mw_msgid_iter_init(&it, S(" <1234@local.machine.example> <3456@example.net>"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "1234@local.machine.example");
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "3456@example.net");
    CHECK_INT(mw_msgid_iter_next(&it, &m), 0);

    mw_msgid_iter_init(&it, S(" <5678.21-Nov-1997@example.com>"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.left.base, m.left.len, "5678.21-Nov-1997");

    /* A.6.3: CFWS inside the id (obsolete). */
    mw_msgid_iter_init(&it, S(" <1234   @   local(blah)  .machine .example>"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_INT(m.flags, MW_MSGID_F_OBS_CFWS);
    CHECK_STR(m.left.base, m.left.len, "1234   ");
    CHECK_STR(m.right.base, m.right.len, "   local(blah)  .machine .example");

    /* A.5: folding before the id. */
    mw_msgid_iter_init(&it, S("              <testabcd.1234@silly.test>"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "testabcd.1234@silly.test");

    /* Folded References, literal, quoted id-left, phrases. */
    mw_msgid_iter_init(&it, S("<a@b>\r\n <c@[192.0.2.1]> \"x y\" Your message. of <\"q>\"@r> (c)"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "a@b");
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_INT(m.flags, MW_MSGID_F_LITERAL);
    CHECK_STR(m.right.base, m.right.len, "[192.0.2.1]");
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "\"q>\"@r");
    CHECK_INT(m.flags, MW_MSGID_F_OBS_PHRASE | MW_MSGID_F_OBS_LEFT);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 0);

    /* Malformed ids are errors, and the iterator goes on after them. */
    mw_msgid_iter_init(&it, S("<abc> <a@b@c> <.a@b> <a@b.> <a b@c> , <ok@x> <unterminated@x"));
    for (int i = 0; i < 5; i++)
        CHECK_INT(mw_msgid_iter_next(&it, &m), MW_ERR_SYNTAX);
    CHECK_INT(mw_msgid_iter_next(&it, &m), MW_ERR_SYNTAX); /* the stray ',' */
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_STR(m.id.base, m.id.len, "ok@x");
    CHECK_INT(mw_msgid_iter_next(&it, &m), MW_ERR_SYNTAX);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 0);

    mw_msgid_iter_init(&it, S("<j\xc3\xb6@x>"));
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_INT(m.flags, MW_MSGID_F_UTF8);
    CHECK_INT(mw_msgid_iter_init(&it, NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_msgid_iter_next(&it, NULL), MW_ERR_INVALID);
}

static void test_msgid_generate(void)
{
    static const unsigned char rnd[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    char out[128];
    mw_ssize n =
        mw_msgid_generate(rnd, sizeof rnd, 1795734300, S("mail.example.org"), out, sizeof out);
    /* 1795734300 in base 36 and 10 bytes in base 32 (16 characters). */
    CHECK_STR(out, (size_t)n, "<tp4tgc.aaaqeayeaudaocaj@mail.example.org>");
    CHECK(out[n] == 0);
    mw_msgid_iter it;
    mw_msgid m;
    mw_msgid_iter_init(&it, out, (size_t)n);
    CHECK_INT(mw_msgid_iter_next(&it, &m), 1);
    CHECK_INT(m.flags, 0);
    CHECK_STR(m.right.base, m.right.len, "mail.example.org");

    n = mw_msgid_generate(rnd, 8, 0, S("[192.0.2.1]"), out, sizeof out);
    CHECK_STR(out, (size_t)n, "<0.aaaqeayeaudao@[192.0.2.1]>");

    static const char *bad[] = {"",       "a..b", ".a", "a.",    "a b", "a>b",
                                "a\r\nb", "a\nb", "[a", "[a[b]", "x@y", "\xc3\xa4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(mw_msgid_generate(rnd, 8, 0, bad[i], strlen(bad[i]), out, sizeof out),
                  MW_ERR_SYNTAX);
    CHECK_INT(mw_msgid_generate(rnd, 8, 0, S("a\0b"), out, sizeof out), MW_ERR_SYNTAX);
    CHECK_INT(mw_msgid_generate(rnd, 7, 0, S("x"), out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_msgid_generate(rnd, 8, -1, S("x"), out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_msgid_generate(NULL, 8, 0, S("x"), out, sizeof out), MW_ERR_INVALID);
    n = mw_msgid_generate(rnd, 8, 0, S("x"), out, sizeof out);
    CHECK_INT(mw_msgid_generate(rnd, 8, 0, S("x"), out, (size_t)n), MW_ERR_BUFFER);
    CHECK_INT(mw_msgid_generate(rnd, 8, 0, S("x"), out, (size_t)n + 1), n);
}

int main(void)
{
    MW_RUN(test_appendix_dates);
    MW_RUN(test_zones);
    MW_RUN(test_years);
    MW_RUN(test_invalid);
    MW_RUN(test_flags);
    MW_RUN(test_format);
    MW_RUN(test_round_trip);
    MW_RUN(test_generated_dates);
    MW_RUN(test_msgid);
    MW_RUN(test_msgid_generate);
    return mw_test_finish();
}
