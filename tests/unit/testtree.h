/* SPDX-License-Identifier: MIT */
/*
 * Trees shared by the unit tests (include after cmocka.h): where the source
 * tree is (its tests/fixtures), temporary roots written file by file, and
 * their removal.
 */
#ifndef KMEM_TEST_TESTTREE_H
#define KMEM_TEST_TESTTREE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The source tree the test was built from (the Makefile's -DKMEM_SRCDIR, an
 * absolute path), unless $KMEM_TOP names another one (tests/run.sh). An
 * absolute path: symbolic links to fixtures made in /tmp resolve. */
#ifndef KMEM_SRCDIR
#define KMEM_SRCDIR "."
#endif

static inline const char *test_top(void)
{
    const char *t = getenv("KMEM_TOP");

    return t && *t ? t : KMEM_SRCDIR;
}

/* @buf = TOP/tests/fixtures/@name. */
static inline const char *fixture_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/tests/fixtures/%s", test_top(), name);
    return buf;
}

static inline int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes @dir and everything below it (links are removed, not followed). */
static inline void rm_tree(const char *dir)
{
    nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes @text to @root/@rel, making the directories of @rel. */
static inline void put_file(const char *root, const char *rel, const char *text)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f;

    if (n < 0 || (size_t)n >= sizeof(path))
        fail_msg("path too long: %s/%s", root, rel);
    for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#endif
