/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_SNAPIMAGE_H
#define __BLKSNAP_SNAPIMAGE_H

#include <linux/bio.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct diff_area;
struct gendisk;
struct snapimage;

/* Workers per image: reads of saved chunks wait for memory or storage. */
#define SNAPIMAGE_WORKERS	4

struct snapimage_worker {
	struct snapimage *image;
	struct work_struct work;
};

/**
 * struct snapimage - the block device that shows a device as at the take
 * @disk:	the gendisk, named blksnap-<major>-<minor> of the original
 * @diff_area:	where the data comes from; referenced until the disk is
 *		freed, which may be long after the snapshot is destroyed
 * @lock:	protects @bios, @next_worker and @dead; taken in bio
 *		completion too
 * @bios:	bios waiting for @workers
 * @next_worker: the worker to kick next, round robin
 * @workers:	serve @bios in process context, where they may sleep
 * @dead:	the snapshot is destroyed; all I/O fails
 */
struct snapimage {
	struct gendisk *disk;
	struct diff_area *diff_area;
	spinlock_t lock; /* see above */
	struct bio_list bios;
	unsigned int next_worker;
	struct snapimage_worker workers[SNAPIMAGE_WORKERS];
	bool dead;
#ifndef BLKSNAP_HAVE_FREE_DISK
	atomic_t refs;	/* the image's own and its openers' (snapimage.c) */
#endif
};

int blksnap_snapimage_init(void);
void blksnap_snapimage_done(void);
struct snapimage *blksnap_snapimage_create(struct diff_area *diff_area);
void blksnap_snapimage_destroy(struct snapimage *image);

static inline const char *snapimage_name(struct snapimage *image)
{
	return image->disk->disk_name;
}

#endif /* __BLKSNAP_SNAPIMAGE_H */
