/* SPDX-License-Identifier: MIT */
/* Internal to libkmem: the metadata file of a capture (KMEM_CAPTURE_META). */
#ifndef KMEM_CAPMETA_H
#define KMEM_CAPMETA_H

#include "io.h"
#include "kmem.h"

/* Write the metadata into the capture that @io has started (no-op if none). */
void kmem_capmeta_write(struct kmem_io *io, const char *command);

/* Read the metadata at the root of @io. 0, -ENOENT when there is none, or -errno. */
int kmem_capmeta_read(struct kmem_io *io, struct kmem_capture_meta *m);

#endif
