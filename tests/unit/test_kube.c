/* SPDX-License-Identifier: MIT */
/* kmem_kube_parse_path(): every cgroup path shape kubelets and runtimes make, and junk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kmem.h"
#include "kube.h"

#define UID  "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
#define UIDU "1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d"
#define SUID "3f6b1e0c9a2d4e5f8a7b6c5d4e3f2a1b" /* static pod: manifest hash */
#define NO   false, "", "", "", "", false       /* not a pod: every field "" */
#define CID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct kube_case {
    const char *path;
    bool ok;
    const char *uid, *qos, *cid, *runtime;
    bool conmon;
};

static const struct kube_case cases[] = {
    /* systemd driver */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice", true, UID,
     "burstable", "", "", false},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU ".slice", true, UID,
     "besteffort", "", "", false},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice", true, UID, "guaranteed", "", "", false},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
     ".slice/cri-containerd-" CID ".scope",
     true, UID, "burstable", CID, "containerd", false},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID ".scope", true, UID,
     "guaranteed", CID, "containerd", false},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU ".slice/crio-" CID
     ".scope",
     true, UID, "besteffort", CID, "crio", false},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
     ".slice/crio-conmon-" CID ".scope",
     true, UID, "besteffort", "", "crio", true},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice/docker-" CID
     ".scope",
     true, UID, "burstable", CID, "docker", false},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" SUID ".slice", true, SUID,
     "burstable", "", "", false},
    /* kubelet --cgroup-root nested in other slices (systemd prefixes the names) */
    {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
     "kubelet-kubepods-burstable-pod" UIDU ".slice/cri-containerd-" CID ".scope",
     true, UID, "burstable", CID, "containerd", false},
    /* cgroupfs driver */
    {"/kubepods/burstable/pod" UID, true, UID, "burstable", "", "", false},
    {"/kubepods/besteffort/pod" UID "/" CID, true, UID, "besteffort", CID, "", false},
    {"/kubepods/pod" UID, true, UID, "guaranteed", "", "", false},
    {"/kubepods/pod" UID "/" CID, true, UID, "guaranteed", CID, "", false},
    {"/kubepods/burstable/pod" UID "/crio-" CID, true, UID, "burstable", CID, "crio", false},
    {"/kubepods/burstable/pod" UID "/crio-conmon-" CID, true, UID, "burstable", "", "crio", true},
    {"/kubepods/pod" SUID "/" CID, true, SUID, "guaranteed", CID, "", false},
    /* a prefix before kubepods (nested cgroup root) */
    {"/system.slice/containerd.service/kubepods/burstable/pod" UID "/" CID, true, UID, "burstable",
     CID, "", false},
    {"kubepods/pod" UID, true, UID, "guaranteed", "", "", false},
    {"//kubepods//pod" UID "//" CID, true, UID, "guaranteed", CID, "", false},
    /* not pods */
    {"/", NO},
    {"", NO},
    {"/kubepods.slice", NO},
    {"/kubepods.slice/kubepods-burstable.slice", NO},
    {"/kubepods", NO},
    {"/kubepods/burstable", NO},
    {"/system.slice/containerd.service", NO},
    {"/user.slice/user-1000.slice/session-3.scope", NO},
    {"/docker/" CID, NO},
    {"/system.slice/docker-" CID ".scope", NO},
    /* junk */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60.slice", NO},
    {"/kubepods/burstable/pod1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5", NO},
    {"/kubepods/burstable/pod" UID "x", NO},
    {"/kubepods/burstable/podzb2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d", NO},
    {"/kubepods/burstable/pod1b2c3d4e55f60-4a7b-8c9d-0e1f2a3b4c5d", NO},
    {"/kubepods/burstable/pod", NO},
    {"/kubepods/guaranteed/pod" UID, NO},
    {"/notkubepods/pod" UID, NO},
    {"/kubepods.slice/xkubepods-pod" UIDU ".slice", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".scope", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-0123456789abcdef.scope", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID "0.scope", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID, true, UID, "guaranteed", CID,
     "containerd", false},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/" CID ".scope", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID ".scope/init", NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/crio-conmon-ABC.scope", NO},
    {"/kubepods/pod" UID "/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", NO},
    {"/kubepods/pod" UID "/..", NO},
    {"/kubepods/../kubepods/pod" UID, NO},
    {"/kubepods/./pod" UID, NO},
    {"/kubepods/pod" UID "/pod" UID, NO},
    /* a cgroup below a container is not one (even named like one) */
    {"/kubepods/pod" UID "/" CID "/" CID, NO},
    {"/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" CID ".scope/cri-containerd-" CID
     ".scope",
     NO},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct kube_case *c = &cases[i];
        struct kmem_kube_id id;
        bool ok = kmem_kube_parse_path(c->path, &id);

        if (ok != c->ok)
            fail_msg("case %zu %s: got %d", i, c->path, ok);
        assert_string_equal(id.pod_uid, c->ok ? c->uid : "");
        assert_string_equal(id.qos, c->ok ? c->qos : "");
        assert_string_equal(id.container_id, c->ok ? c->cid : "");
        assert_string_equal(id.runtime, c->ok ? c->runtime : "");
        assert_int_equal(id.conmon, c->conmon);
    }
}

static void test_null_and_long(void **state)
{
    static char big[1 << 16];
    struct kmem_kube_id id;
    size_t n;

    (void)state;
    assert_false(kmem_kube_parse_path(NULL, &id));
    /* A very long path of long components, then a pod: still parsed. */
    n = 0;
    while (n + 300 < sizeof(big) - 200) {
        big[n++] = '/';
        memset(big + n, 'a', 250);
        n += 250;
    }
    snprintf(big + n, sizeof(big) - n, "/kubepods/pod%s", UID);
    assert_true(kmem_kube_parse_path(big, &id));
    assert_string_equal(id.pod_uid, UID);
    /* A huge uid-like and id-like component is rejected, nothing overflows. */
    memcpy(big, "/kubepods/pod", 13);
    memset(big + 13, 'a', sizeof(big) - 14);
    big[sizeof(big) - 1] = '\0';
    assert_false(kmem_kube_parse_path(big, &id));
    snprintf(big, sizeof(big), "/kubepods/pod%s/", UID);
    n = strlen(big);
    memset(big + n, 'b', sizeof(big) - n - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(kmem_kube_parse_path(big, &id));
    assert_string_equal(id.pod_uid, "");
    /* A slice name made only of "-pod" repeats. */
    snprintf(big, sizeof(big), "/kubepods.slice/kubepods-pod-pod-pod-pod.slice");
    assert_false(kmem_kube_parse_path(big, &id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_and_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
