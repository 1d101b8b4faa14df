/* SPDX-License-Identifier: MIT */
/* Fuzz target: the end of the page frames from /proc/zoneinfo (the owner walker). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ownwalk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t end = 0;
    int rc = kmem_ownwalk_zoneinfo_end((const char *)data, size, &end);

    if (rc != 0 && rc != -22)
        abort();
    if (rc == 0 && end == 0)
        abort();
    return 0;
}
