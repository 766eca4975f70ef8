/*
 * SASL crypto and engine throughput: SHA-256 and MD5 over 1 MiB,
 * PBKDF2-HMAC-SHA-256 at SCRAM's 4096 iterations, and whole SCRAM-SHA-256
 * exchanges (client + server) per second. OpenSSL's figures are printed
 * next to ours when it is installed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"
#include "sasl/sasl_internal.h"

#ifdef MW_BENCH_HAVE_OPENSSL
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#endif

#define DATA_LEN (1u << 20)

static unsigned char g_data[DATA_LEN];
static unsigned char g_out[64];

static void run_sha256(void *arg)
{
    (void)arg;
    mw__sha256(g_data, DATA_LEN, g_out);
    bench_sink(g_out, 32);
}

static void run_md5(void *arg)
{
    (void)arg;
    mw__md5(g_data, DATA_LEN, g_out);
    bench_sink(g_out, 16);
}

static void run_pbkdf2(void *arg)
{
    (void)arg;
    mw__pbkdf2_sha256("pencil", 6, "saltsaltsaltsalt", 16, 4096, g_out, 32);
    bench_sink(g_out, 32);
}

#ifdef MW_BENCH_HAVE_OPENSSL
static void run_ossl_sha256(void *arg)
{
    (void)arg;
    SHA256(g_data, DATA_LEN, g_out);
    bench_sink(g_out, 32);
}

static void run_ossl_md5(void *arg)
{
    (void)arg;
    unsigned int n = 0;
    EVP_Digest(g_data, DATA_LEN, g_out, &n, EVP_md5(), NULL);
    bench_sink(g_out, 16);
}

static void run_ossl_pbkdf2(void *arg)
{
    (void)arg;
    PKCS5_PBKDF2_HMAC("pencil", 6, (const unsigned char *)"saltsaltsaltsalt", 16, 4096,
                      EVP_sha256(), 32, g_out);
    bench_sink(g_out, 32);
}
#endif

static int counter_random(void *buf, size_t len, void *ud)
{
    unsigned *ctr = ud;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(++*ctr * 2654435761u >> 24);
    return 0;
}

/* One whole exchange; the server holds stored keys (the usual setup), so
 * the key derivation happens once, on the client. */
static void run_scram(void *arg)
{
    const mw_sasl_scram_creds *sc = arg;
    static unsigned ctr;
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    mw_sasl_options_set_random(o, counter_random, &ctr);
    mw_sasl_client *c;
    mw_sasl_server *s;
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256", o);
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", o);
    mw_sasl_options_free(o);
    mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, "user", 4);
    mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "pencil", 6);
    mw_slice a, b;
    int ok = mw_sasl_client_start(c, &a) == MW_SASL_CONTINUE &&
             mw_sasl_server_start(s, a.base, a.len, &b) == MW_SASL_VERIFY &&
             mw_sasl_server_supply_scram(s, sc, &b) == MW_SASL_CONTINUE &&
             mw_sasl_client_step(c, b.base, b.len, &a) == MW_SASL_CONTINUE &&
             mw_sasl_server_step(s, a.base, a.len, &b) == MW_SASL_CONTINUE &&
             mw_sasl_client_step(c, b.base, b.len, &a) == MW_SASL_CONTINUE &&
             mw_sasl_server_step(s, a.base, a.len, &b) == MW_SASL_DONE &&
             mw_sasl_client_finish(c, NULL, 0) == MW_OK;
    if (!ok) {
        fprintf(stderr, "bench_sasl: SCRAM exchange failed\n");
        exit(1);
    }
    mw_sasl_client_free(c);
    mw_sasl_server_free(s);
}

static void report(const char *what, double seconds, double bytes, double memcpy_rate)
{
    if (bytes > 0)
        printf("%-28s %9.1f MB/s  (%.3f x memcpy)\n", what, bytes / seconds / 1e6,
               bytes / seconds / memcpy_rate);
    else
        printf("%-28s %9.3f ms/op  (%.0f op/s)\n", what, seconds * 1e3, 1.0 / seconds);
}

int main(void)
{
    for (size_t i = 0; i < DATA_LEN; i++) g_data[i] = (unsigned char)(i * 131u + 7);
    double mc = bench_memcpy_rate(DATA_LEN, DATA_LEN, 0.2);
    report("mailwire SHA-256", bench_best(run_sha256, NULL, 0.5), DATA_LEN, mc);
#ifdef MW_BENCH_HAVE_OPENSSL
    report("OpenSSL  SHA-256", bench_best(run_ossl_sha256, NULL, 0.5), DATA_LEN, mc);
#endif
    report("mailwire MD5", bench_best(run_md5, NULL, 0.5), DATA_LEN, mc);
#ifdef MW_BENCH_HAVE_OPENSSL
    report("OpenSSL  MD5", bench_best(run_ossl_md5, NULL, 0.5), DATA_LEN, mc);
#endif
    report("mailwire PBKDF2 (4096)", bench_best(run_pbkdf2, NULL, 0.5), 0, mc);
#ifdef MW_BENCH_HAVE_OPENSSL
    report("OpenSSL  PBKDF2 (4096)", bench_best(run_ossl_pbkdf2, NULL, 0.5), 0, mc);
#endif
    mw_sasl_scram_creds sc;
    memset(&sc, 0, sizeof sc);
    sc.salt = "saltsaltsaltsalt";
    sc.salt_len = 16;
    sc.iterations = 4096;
    mw_sasl_scram_derive("pencil", 6, &sc);
    report("SCRAM-SHA-256 exchange", bench_best(run_scram, &sc, 0.5), 0, mc);
    return 0;
}
