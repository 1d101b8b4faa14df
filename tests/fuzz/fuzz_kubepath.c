/* SPDX-License-Identifier: MIT */
/* Fuzz target: Kubernetes identity from a cgroup path (NUL-terminated copy). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmem.h"
#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size + 1);
    struct kmem_kube_id id;
    bool ok;

    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    ok = kmem_kube_parse_path(path, &id);
    /* Every field is a terminated string; a match always has a pod UID and QoS. */
    if (strnlen(id.pod_uid, sizeof(id.pod_uid)) == sizeof(id.pod_uid) ||
        strnlen(id.qos, sizeof(id.qos)) == sizeof(id.qos) ||
        strnlen(id.container_id, sizeof(id.container_id)) == sizeof(id.container_id) ||
        strnlen(id.runtime, sizeof(id.runtime)) == sizeof(id.runtime))
        abort();
    if (ok != (id.pod_uid[0] != '\0') || (ok && !id.qos[0]))
        abort();
    if (id.conmon && id.container_id[0])
        abort();
    free(path);
    return 0;
}
