/* An outside program using an installed mailwire. SPDX-License-Identifier: MIT */
#include <mailwire/mailwire.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(mw_version(), MW_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", MW_VERSION_STRING, mw_version());
        return 1;
    }
    if (strcmp(mw_strerror(MW_ERR_NOMEM), "out of memory") != 0 || !mw_is_fatal(MW_ERR_NOMEM)) {
        fprintf(stderr, "error API mismatch\n");
        return 1;
    }
    printf("consumer ok: mailwire %s\n", mw_version());
    return 0;
}
