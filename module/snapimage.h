/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_SNAPIMAGE_H
#define __BLKSNAP_SNAPIMAGE_H

#include <linux/bio.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct diff_area;
struct gendisk;

/**
 * struct snapimage - the block device that shows a device as at the take
 * @disk:	the gendisk, named blksnap-<major>-<minor> of the original
 * @diff_area:	where the data comes from; referenced until the disk is
 *		freed, which may be long after the snapshot is destroyed
 * @lock:	protects @bios and @dead
 * @bios:	bios waiting for @work
 * @work:	serves @bios in process context, where it may sleep
 * @dead:	the snapshot is destroyed; all I/O fails
 */
struct snapimage {
	struct gendisk *disk;
	struct diff_area *diff_area;
	spinlock_t lock; /* see above */
	struct bio_list bios;
	struct work_struct work;
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
