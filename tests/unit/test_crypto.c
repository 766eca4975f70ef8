/*
 * Hashes and MACs of the SASL module against published vectors: FIPS 180
 * (SHA-256), RFC 4231 (HMAC-SHA-256), RFC 1321 (MD5), RFC 2202 (HMAC-MD5),
 * RFC 7914 §11 (PBKDF2-HMAC-SHA-256).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"
#include "sasl/sasl_internal.h"

#include <stdlib.h>

static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

#define CHECK_HEX(got, gotlen, hex)                                                        \
    do {                                                                                   \
        unsigned char want_[128];                                                          \
        size_t wl_ = unhex((hex), want_);                                                  \
        CHECK_MEM((got), (gotlen), want_, wl_);                                            \
    } while (0)

static void test_sha256_fips(void)
{
    unsigned char d[32];
    mw__sha256("abc", 3, d);
    CHECK_HEX(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mw__sha256(m448, strlen(m448), d);
    CHECK_HEX(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    mw__sha256("", 0, d);
    CHECK_HEX(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_million_a(void)
{
    /* Fed in uneven pieces to exercise the block buffer. */
    unsigned char chunk[997], d[32];
    memset(chunk, 'a', sizeof chunk);
    mw__sha256_ctx s;
    mw__sha256_init(&s);
    size_t left = 1000000;
    for (size_t piece = 1; left; piece = (piece + 13) % sizeof chunk + 1) {
        size_t n = piece < left ? piece : left;
        mw__sha256_update(&s, chunk, n);
        left -= n;
    }
    mw__sha256_final(&s, d);
    CHECK_HEX(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_split_invariance(void)
{
    unsigned char data[300], whole[32], parts[32];
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)mw_test_rand(&seed);
    for (size_t len = 0; len <= sizeof data; len += 37) {
        mw__sha256(data, len, whole);
        for (size_t chunk = 1; chunk <= 8; chunk++) {
            mw__sha256_ctx s;
            mw__sha256_init(&s);
            for (size_t off = 0; off < len; off += chunk)
                mw__sha256_update(&s, data + off, len - off < chunk ? len - off : chunk);
            mw__sha256_final(&s, parts);
            CHECK_MEM(parts, 32, whole, 32);
        }
    }
}

/* One HMAC test vector: the key and the data are text, or len octets of
 * one value (0: the octets 0x01, 0x02, ... of RFC 4231 and RFC 2202 test
 * case 4); hex is the MAC, or its first octets for the truncation case. */
typedef struct hmac_vector {
    const char *key;
    unsigned char key_byte;
    size_t key_len;
    const char *data;
    unsigned char data_byte;
    size_t data_len;
    const char *hex;
} hmac_vector;

static size_t vector_bytes(unsigned char *buf, const char *text, unsigned char byte, size_t len)
{
    if (text) len = strlen(text);
    for (size_t i = 0; i < len; i++)
        buf[i] = text ? (unsigned char)text[i] : byte ? byte : (unsigned char)(i + 1);
    return len;
}

static void check_hmac(const hmac_vector *v, size_t n, int md5)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char key[131], data[160], d[32];
        size_t klen = vector_bytes(key, v[i].key, v[i].key_byte, v[i].key_len);
        size_t dlen = vector_bytes(data, v[i].data, v[i].data_byte, v[i].data_len);
        if (md5)
            mw__hmac_md5(key, klen, data, dlen, d);
        else
            mw__hmac_sha256(key, klen, data, dlen, d);
        CHECK_HEX(d, strlen(v[i].hex) / 2, v[i].hex);
    }
}

#define WHAT "what do ya want for nothing?"
#define TRUNCATION "Test With Truncation"
#define LARGE_KEY "Test Using Larger Than Block-Size Key - Hash Key First"

static void test_hmac_sha256_rfc4231(void)
{
    static const hmac_vector v[] = {
        {NULL, 0x0b, 20, "Hi There", 0, 0,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 0, 0, WHAT, 0, 0,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {NULL, 0xaa, 20, NULL, 0xdd, 50,
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {NULL, 0, 25, NULL, 0xcd, 50,
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {NULL, 0x0c, 20, TRUNCATION, 0, 0, "a3b6167473100ee06e0c796c2955552b"}, /* 128 bits */
        /* test cases 6 and 7: key longer than the block */
        {NULL, 0xaa, 131, LARGE_KEY, 0, 0,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {NULL, 0xaa, 131,
         "This is a test using a larger than block-size key and a larger than "
         "block-size data. The key needs to be hashed before being used by the "
         "HMAC algorithm.",
         0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    check_hmac(v, sizeof v / sizeof v[0], 0);
}

static void test_md5_rfc1321(void)
{
    static const struct {
        const char *in, *hex;
    } v[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char d[16];
        mw__md5(v[i].in, strlen(v[i].in), d);
        CHECK_HEX(d, 16, v[i].hex);
        /* byte by byte gives the same digest */
        mw__md5_ctx s;
        mw__md5_init(&s);
        for (size_t j = 0; v[i].in[j]; j++) mw__md5_update(&s, v[i].in + j, 1);
        mw__md5_final(&s, d);
        CHECK_HEX(d, 16, v[i].hex);
    }
}

static void test_hmac_md5_rfc2202(void)
{
    static const hmac_vector v[] = {
        {NULL, 0x0b, 16, "Hi There", 0, 0, "9294727a3638bb1c13f48ef8158bfc9d"},
        {"Jefe", 0, 0, WHAT, 0, 0, "750c783e6ab0b503eaa86e310a5db738"},
        {NULL, 0xaa, 16, NULL, 0xdd, 50, "56be34521d144c88dbb8c733f0e8b3f6"},
        {NULL, 0, 25, NULL, 0xcd, 50, "697eaf0aca3a3aea3a75164746ffaa79"},
        {NULL, 0x0c, 16, TRUNCATION, 0, 0, "56461ef2342edc00f9bab995690efd4c"},
        {NULL, 0xaa, 80, LARGE_KEY, 0, 0, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
        {NULL, 0xaa, 80,
         "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", 0, 0,
         "6f630fad67cda0ee1fb1f562db3aa53e"},
    };
    check_hmac(v, sizeof v / sizeof v[0], 1);
}

static void test_pbkdf2_rfc7914(void)
{
    unsigned char d[64];
    CHECK_INT(mw__pbkdf2_sha256("passwd", 6, "salt", 4, 1, d, 64), MW_OK);
    CHECK_HEX(d, 64,
              "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
              "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    CHECK_INT(mw__pbkdf2_sha256("Password", 8, "NaCl", 4, 80000, d, 64), MW_OK);
    CHECK_HEX(d, 64,
              "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
              "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
    /* RFC 6070's inputs with SHA-256 as the PRF (the commonly published
     * values): several rounds, and an output that spans two blocks. */
    CHECK_INT(mw__pbkdf2_sha256("password", 8, "salt", 4, 2, d, 32), MW_OK);
    CHECK_HEX(d, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
    const char *pw = "passwordPASSWORDpassword", *salt = "saltSALTsaltSALTsaltSALTsaltSALTsalt";
    CHECK_INT(mw__pbkdf2_sha256(pw, strlen(pw), salt, strlen(salt), 4096, d, 40), MW_OK);
    CHECK_HEX(d, 40, "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9");
    /* Output shorter than one block is a prefix of the full block. */
    unsigned char short_out[20];
    CHECK_INT(mw__pbkdf2_sha256("passwd", 6, "salt", 4, 1, short_out, 20), MW_OK);
    CHECK_HEX(short_out, 20, "55ac046e56e3089fec1691c22544b605f9418521");
    CHECK_INT(mw__pbkdf2_sha256("p", 1, "s", 1, 0, d, 32), MW_ERR_INVALID);
    CHECK_INT(mw__pbkdf2_sha256("p", 1, "s", 1, 1, d, 0), MW_ERR_INVALID);
}

static void test_wipe(void)
{
    unsigned char buf[33];
    memset(buf, 0x5a, sizeof buf);
    mw__wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) CHECK_INT(buf[i], 0);
}

int main(void)
{
    MW_RUN(test_sha256_fips);
    MW_RUN(test_sha256_million_a);
    MW_RUN(test_sha256_split_invariance);
    MW_RUN(test_hmac_sha256_rfc4231);
    MW_RUN(test_md5_rfc1321);
    MW_RUN(test_hmac_md5_rfc2202);
    MW_RUN(test_pbkdf2_rfc7914);
    MW_RUN(test_wipe);
    return mw_test_finish();
}
