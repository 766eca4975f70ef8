/*
 * The GMime 3 side of mime_rss: the same file, parsed the way a GMime
 * program reads a message from disk (GMimeStreamFs over an fd, default
 * persist-stream, so leaf contents stay in the file and are not copied),
 * and optionally every leaf decoded to a null stream. Prints the same
 * figures as mime_rss so both sides can be read from one run.
 *
 * Usage: mime_rss_gmime parse|decode FILE
 *
 * SPDX-License-Identifier: MIT
 */
#include <gmime/gmime.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static unsigned long long g_body, g_parts;

static void print_status(const char *when)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "VmRSS:", 6))
            printf("  %s %s", when, line);
    fclose(f);
}

static void decode_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    int decode = *(int *)data;
    g_parts++;
    if (!decode || !GMIME_IS_PART(part)) return;
    GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)part);
    if (!w) return;
    GMimeStream *null = g_mime_stream_null_new();
    g_mime_data_wrapper_write_to_stream(w, null);
    g_body += (unsigned long long)((GMimeStreamNull *)null)->written;
    g_object_unref(null);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "parse") && strcmp(argv[1], "decode"))) {
        fprintf(stderr, "usage: mime_rss_gmime parse|decode FILE\n");
        return 2;
    }
    int decode = !strcmp(argv[1], "decode");
    g_mime_init();
    print_status("after g_mime_init:");
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    GMimeStream *s = g_mime_stream_fs_new(fd); /* owns fd */
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (!msg) {
        fprintf(stderr, "GMime could not parse %s\n", argv[2]);
        return 1;
    }
    g_mime_message_foreach(msg, decode_part, &decode);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double t = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    gint64 size = g_mime_stream_length(s);
    g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("GMime %s: %lld bytes, %llu parts below the root, %llu body bytes out, %.0f ms, "
           "%.0f MB/s\n  ru_maxrss %ld kB\n",
           decode ? "parse+decode" : "parse-only", (long long)size, g_parts, g_body, t * 1000.0,
           (double)size / 1e6 / t, ru.ru_maxrss);
    print_status("end:");
    return 0;
}
