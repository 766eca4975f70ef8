/*
 * Date-time (RFC 5322 §3.3, obsolete forms §4.3): parse with CFWS,
 * obsolete zones and short years; format from epoch seconds. No C library
 * time functions: the calendar arithmetic is done here (days-from-civil).
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

typedef struct dscan {
    const char *p, *end;
    unsigned flags;
    int err; /* first error from skipping comments */
} dscan;

/* Skip FWS and comments. Returns 1 when anything was skipped; comments set
 * MW_DATE_F_CFWS only where obs says so, which the caller decides. */
static int skip_cfws(dscan *s, int *comment)
{
    const char *start = s->p;
    while (s->p < s->end) {
        char c = *s->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            s->p++;
        } else if (c == '(') {
            int rc = mw__skip_comment(&s->p, s->end, MW__DEFAULT_COMMENT_DEPTH);
            if (rc != MW_OK) {
                if (!s->err) s->err = rc;
                return 1;
            }
            if (comment) *comment = 1;
        } else {
            break;
        }
    }
    return s->p != start;
}

/* Skip CFWS; a comment there is obsolete syntax (§4.3). */
static void skip_obs(dscan *s)
{
    int comment = 0;
    skip_cfws(s, &comment);
    if (comment) s->flags |= MW_DATE_F_CFWS;
}

/* Read up to max digits; returns the count read (0 when none). */
static int read_digits(dscan *s, int max, long *value)
{
    int n = 0;
    long v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (n == max) return max + 1; /* too many digits */
        v = v * 10 + (*s->p - '0');
        s->p++;
        n++;
    }
    *value = v;
    return n;
}

static size_t read_alpha(dscan *s, const char **word)
{
    *word = s->p;
    while (s->p < s->end && ((*s->p | 0x20) >= 'a' && (*s->p | 0x20) <= 'z'))
        s->p++;
    return (size_t)(s->p - *word);
}

static int name_index(const char *w, size_t n, const char (*names)[4], int count)
{
    if (n != 3) return -1;
    for (int i = 0; i < count; i++) {
        if ((w[0] | 0x20) == (names[i][0] | 0x20) && (w[1] | 0x20) == names[i][1] &&
            (w[2] | 0x20) == names[i][2])
            return i;
    }
    return -1;
}

static int ieq(const char *w, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if ((w[i] | 0x20) != (lit[i] | 0x20)) return 0;
    return i == n && lit[i] == 0;
}

/* obs-zone (§4.3): named zones, and military letters taken as -0000. */
static int obs_zone(const char *w, size_t n, int *zone, unsigned *flags)
{
    static const struct {
        const char *name;
        int hours;
    } zones[] = {{"UT", 0},   {"GMT", 0},  {"EST", -5}, {"EDT", -4}, {"CST", -6},
                 {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        if (ieq(w, n, zones[i].name)) {
            *zone = zones[i].hours * 60;
            *flags |= MW_DATE_F_OBS_ZONE;
            return MW_OK;
        }
    }
    if (n == 1 && (w[0] | 0x20) != 'j') {
        /* §4.3: the military zones were defined wrongly in RFC 822, so
         * they carry no information and count as "-0000". */
        *zone = 0;
        *flags |= MW_DATE_F_OBS_ZONE | MW_DATE_F_MILITARY_ZONE | MW_DATE_F_UNKNOWN_ZONE;
        return MW_OK;
    }
    return MW_ERR_SYNTAX;
}

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

int64_t mw_date_to_epoch(int year, int month, int day, int hour, int minute, int second)
{
    int64_t days = mw__days_from_civil(year, (unsigned)month, (unsigned)day);
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)minute * 60 + second;
}

static int parse_wday(dscan *s, mw_date *d)
{
    skip_obs(s);
    if (s->p < s->end && ((*s->p | 0x20) >= 'a' && (*s->p | 0x20) <= 'z')) {
        const char *w;
        size_t n = read_alpha(s, &w);
        d->wday = name_index(w, n, day_names, 7);
        if (d->wday < 0) return MW_ERR_SYNTAX;
        skip_obs(s);
        if (s->p == s->end || *s->p != ',') return MW_ERR_SYNTAX;
        s->p++;
    } else {
        d->wday = -1;
        d->flags |= MW_DATE_F_NO_WDAY;
    }
    return MW_OK;
}

static int parse_day_month_year(dscan *s, mw_date *d)
{
    long v;
    skip_obs(s);
    int n = read_digits(s, 2, &v);
    if (n < 1 || n > 2) return MW_ERR_SYNTAX;
    d->day = (int)v;
    skip_obs(s);
    const char *w;
    size_t wl = read_alpha(s, &w);
    d->month = name_index(w, wl, month_names, 12) + 1;
    if (d->month == 0) return MW_ERR_SYNTAX;
    skip_obs(s);
    n = read_digits(s, 4, &v);
    if (n < 2 || n > 4) return MW_ERR_SYNTAX; /* also years past 9999 */
    if (n == 2) {
        v += v < 50 ? 2000 : 1900; /* §4.3 */
        d->flags |= MW_DATE_F_YEAR_2DIGIT;
    } else if (n == 3) {
        v += 1900;
        d->flags |= MW_DATE_F_YEAR_3DIGIT;
    } else if (v < 1900) {
        return MW_ERR_SYNTAX; /* §3.3: the year is 1900 or later */
    }
    d->year = (int)v;
    if (d->day < 1 || d->day > days_in_month(d->year, d->month)) return MW_ERR_SYNTAX;
    return MW_OK;
}

static int two_digits(dscan *s, long *v)
{
    return read_digits(s, 2, v) == 2 ? MW_OK : MW_ERR_SYNTAX;
}

static int parse_time(dscan *s, mw_date *d)
{
    long h, m, sec = 0;
    skip_obs(s);
    if (two_digits(s, &h)) return MW_ERR_SYNTAX;
    if (skip_cfws(s, NULL)) d->flags |= MW_DATE_F_CFWS; /* obs-hour etc. */
    if (s->p == s->end || *s->p != ':') return MW_ERR_SYNTAX;
    s->p++;
    if (skip_cfws(s, NULL)) d->flags |= MW_DATE_F_CFWS;
    if (two_digits(s, &m)) return MW_ERR_SYNTAX;
    const char *save = s->p;
    unsigned save_flags = d->flags;
    if (skip_cfws(s, NULL)) d->flags |= MW_DATE_F_CFWS;
    if (s->p < s->end && *s->p == ':') {
        s->p++;
        if (skip_cfws(s, NULL)) d->flags |= MW_DATE_F_CFWS;
        if (two_digits(s, &sec)) return MW_ERR_SYNTAX;
    } else {
        s->p = save; /* the space before the zone is not obsolete */
        d->flags = save_flags | MW_DATE_F_NO_SECONDS;
    }
    if (h > 23 || m > 59 || sec > 60) return MW_ERR_SYNTAX;
    if (sec == 60) d->flags |= MW_DATE_F_LEAP_SECOND;
    d->hour = (int)h;
    d->minute = (int)m;
    d->second = (int)sec;
    return MW_OK;
}

static int parse_zone(dscan *s, mw_date *d)
{
    skip_obs(s);
    if (s->p == s->end) return MW_ERR_SYNTAX;
    char sign = *s->p;
    if (sign == '+' || sign == '-') {
        long v;
        s->p++;
        if (read_digits(s, 4, &v) != 4 || v % 100 > 59) return MW_ERR_SYNTAX;
        d->zone = (int)(v / 100 * 60 + v % 100);
        if (sign == '-') {
            if (d->zone == 0) d->flags |= MW_DATE_F_UNKNOWN_ZONE; /* §3.3 */
            d->zone = -d->zone;
        }
        return MW_OK;
    }
    const char *w;
    size_t n = read_alpha(s, &w);
    if (n == 0) return MW_ERR_SYNTAX;
    return obs_zone(w, n, &d->zone, &d->flags);
}

int mw_date_parse(const char *in, size_t len, mw_date *date)
{
    if (!date) return MW_ERR_INVALID;
    memset(date, 0, sizeof *date);
    if (!in && len) return MW_ERR_INVALID;
    if (!in) in = ""; /* no arithmetic on a null pointer */
    mw_date d;
    memset(&d, 0, sizeof d);
    dscan s = {in, in + len, 0, 0};
    int rc = parse_wday(&s, &d);
    if (rc == MW_OK) rc = parse_day_month_year(&s, &d);
    if (rc == MW_OK) rc = parse_time(&s, &d);
    if (rc == MW_OK) rc = parse_zone(&s, &d);
    if (rc == MW_OK) {
        skip_cfws(&s, NULL); /* [CFWS] after the zone is current syntax */
        if (s.p != s.end) rc = MW_ERR_SYNTAX;
    }
    if (s.err) rc = s.err; /* a bad comment explains the failure best */
    if (rc != MW_OK) return rc;
    d.flags |= s.flags;
    int64_t local_days = mw__days_from_civil(d.year, (unsigned)d.month, (unsigned)d.day);
    int wday = (int)((local_days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    if (d.wday >= 0 && d.wday != wday) d.flags |= MW_DATE_F_WDAY_MISMATCH;
    d.epoch =
        mw_date_to_epoch(d.year, d.month, d.day, d.hour, d.minute, d.second) - (int64_t)d.zone * 60;
    *date = d;
    return MW_OK;
}

static void civil_from_days(int64_t z, long *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (long)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, long v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

mw_ssize mw_date_format(int64_t epoch, int zone, char *out, size_t cap)
{
    if ((!out && cap) || zone < -5999 || zone > 5999) return MW_ERR_INVALID;
    /* Years 1900..9999 lie well inside +-2^40 seconds. */
    if (epoch < -((int64_t)1 << 40) || epoch > ((int64_t)1 << 40)) return MW_ERR_INVALID;
    int64_t local = epoch + (int64_t)zone * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    long secs = (long)(local - days * 86400);
    long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1900 || y > 9999) return MW_ERR_INVALID;
    if (cap < 32) return MW_ERR_BUFFER;
    int wday = (int)((days % 7 + 11) % 7);
    memcpy(out, day_names[wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_names[m - 1], 3);
    out[11] = ' ';
    put2(out + 12, y / 100);
    put2(out + 14, y % 100);
    out[16] = ' ';
    put2(out + 17, secs / 3600);
    out[19] = ':';
    put2(out + 20, secs / 60 % 60);
    out[22] = ':';
    put2(out + 23, secs % 60);
    out[25] = ' ';
    out[26] = zone < 0 ? '-' : '+';
    int az = zone < 0 ? -zone : zone;
    put2(out + 27, az / 60);
    put2(out + 29, az % 60);
    out[31] = 0;
    return 31;
}
