/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes identity of a cgroup: pod UID, QoS class, container ID and
 * runtime from the cgroup path (systemd and cgroupfs drivers; containerd,
 * CRI-O, docker scopes), and names from the pod log directories
 * (pods/<namespace>_<pod>_<uid>/<container>/ and
 * containers/<pod>_<namespace>_<container>-<id>.log). docs/cgroups.md.
 */
#ifndef KMEM_KUBE_H
#define KMEM_KUBE_H

#include <stdbool.h>

struct kmem_kube_id {
    char pod_uid[64];
    char qos[16];
    char container_id[128];
    char runtime[16];
    bool conmon;
};

/*
 * Identity from a cgroup path: returns true if the path is a pod cgroup or a
 * direct child of one (a container, or CRI-O's conmon: conmon set,
 * container_id ""), filling @id. Otherwise returns false and leaves every
 * field "".
 */
bool kmem_kube_parse_path(const char *path, struct kmem_kube_id *id);

/* Internal to libkmem: the name maps, rebuilt from the pod-log directory. */
struct kmem_io;
struct kmem_kube_names;
struct kmem_kube_names *kmem_kube_names_new(void);
void kmem_kube_names_free(struct kmem_kube_names *kn);
/* Rebuild the maps from the pod-log directory; missing dirs give empty maps. 0 or -ENOMEM. */
int kmem_kube_names_load(struct kmem_io *io, struct kmem_kube_names *kn);
/*
 * Names for an identified cgroup: *ns and *pod for its pod (NULL if unknown),
 * *container for a container cgroup (NULL if unknown), and *attempt, the
 * container's restart attempt: the highest <N> of the <N>.log files in its
 * pod-log directory (-1 if unknown). Valid until the next load.
 */
void kmem_kube_names_lookup(const struct kmem_kube_names *kn, const struct kmem_kube_id *id,
                            const char **ns, const char **pod, const char **container,
                            int *attempt);

#endif
