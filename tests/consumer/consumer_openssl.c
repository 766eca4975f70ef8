/* An outside program using an installed mailwire OpenSSL adapter.
 * SPDX-License-Identifier: MIT */
#include <mailwire/mailwire.h>
#include <mailwire/openssl.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    mw_tls_config *cfg = NULL;
    mw_tls_session *s = NULL;
    if (mw_tls_config_new(NULL, MW_TLS_CLIENT, &cfg) != MW_OK ||
        mw_tls_config_set_host_name(cfg, "mail.example.org") != MW_OK ||
        mw_tls_new(NULL, cfg, &s) != MW_OK) {
        fprintf(stderr, "cannot create a TLS session\n");
        return 1;
    }
    /* A client's first output is its ClientHello: a handshake record (22). */
    size_t len = 0;
    const unsigned char *hello = mw_tls_out_buf(s, &len);
    int ok = hello && len > 40 && hello[0] == 22 && (mw_tls_state(s) & MW_WANT_WRITE);
    mw_tls_free(s);
    mw_tls_config_free(cfg);
    if (!ok || strcmp(mw_version(), MW_VERSION_STRING) != 0) {
        fprintf(stderr, "adapter API mismatch\n");
        return 1;
    }
    printf("consumer ok: mailwire %s with OpenSSL adapter (ClientHello %zu octets)\n", mw_version(), len);
    return 0;
}
