// SPDX-License-Identifier: GPL-2.0
/*
 * Before 5.12 a block device knows its disk (bd_disk, bd_contains) only
 * while it is open: the last close clears them.  The module keeps the
 * block devices it filters without keeping them open (holding one open
 * would make a rescan or BLKPG deletion of its partition fail with EBUSY
 * and defer a loop device's detach), and reads, writes, sizes and names
 * them while nobody may have them open.  So on those kernels each held
 * block device is recorded here with its disk, taken while the device is
 * open (at attach), and a reference that keeps the disk's memory.  On later
 * kernels a block device keeps its disk for its lifetime, and this file is
 * empty.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "compat.h"

#ifndef BLKSNAP_HAVE_BIO_BDEV
struct blksnap_bdev_ref {
	struct list_head link;
	struct block_device *bdev;
	struct gendisk *disk;
	unsigned int refs;
	char name[BDEVNAME_SIZE];
};

/* Few entries: one per filtered device.  Read in the bio path. */
static LIST_HEAD(blksnap_bdev_refs);
static DEFINE_SPINLOCK(blksnap_bdev_refs_lock);

static struct blksnap_bdev_ref *blksnap_bdev_ref_find(struct block_device *bdev)
{
	struct blksnap_bdev_ref *ref;

	lockdep_assert_held(&blksnap_bdev_refs_lock);
	list_for_each_entry(ref, &blksnap_bdev_refs, link)
		if (ref->bdev == bdev)
			return ref;
	return NULL;
}

int blksnap_bdev_hold(struct block_device *bdev)
{
	struct blksnap_bdev_ref *ref, *new;
	unsigned long flags;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	spin_lock_irqsave(&blksnap_bdev_refs_lock, flags);
	ref = blksnap_bdev_ref_find(bdev);
	if (ref) {
		ref->refs++;
	} else if (bdev->bd_disk) {
		/* The first hold is at attach, on the device the ioctl opened. */
		new->bdev = bdev;
		new->disk = bdev->bd_disk;
		new->refs = 1;
		get_device(disk_to_dev(new->disk));
		bdevname(bdev, new->name);
		list_add(&new->link, &blksnap_bdev_refs);
		ref = new;
		new = NULL;
	}
	spin_unlock_irqrestore(&blksnap_bdev_refs_lock, flags);
	kfree(new);
	if (!ref)
		return -ENODEV;
	bdgrab(bdev);
	return 0;
}

void blksnap_bdev_unhold(struct block_device *bdev)
{
	struct blksnap_bdev_ref *ref;
	unsigned long flags;

	spin_lock_irqsave(&blksnap_bdev_refs_lock, flags);
	ref = blksnap_bdev_ref_find(bdev);
	if (ref && --ref->refs == 0)
		list_del(&ref->link);
	else
		ref = NULL;
	spin_unlock_irqrestore(&blksnap_bdev_refs_lock, flags);
	if (ref) {
		put_disk(ref->disk);
		kfree(ref);
	}
	bdput(bdev);
}

struct gendisk *blksnap_bdev_disk(struct block_device *bdev)
{
	struct blksnap_bdev_ref *ref;
	struct gendisk *disk;
	unsigned long flags;

	spin_lock_irqsave(&blksnap_bdev_refs_lock, flags);
	ref = blksnap_bdev_ref_find(bdev);
	disk = ref ? ref->disk : bdev->bd_disk;
	spin_unlock_irqrestore(&blksnap_bdev_refs_lock, flags);
	return disk;
}

/* Valid while the caller holds @bdev or has it open. */
const char *blksnap_bdev_name(struct block_device *bdev)
{
	struct blksnap_bdev_ref *ref;
	const char *name;
	unsigned long flags;

	spin_lock_irqsave(&blksnap_bdev_refs_lock, flags);
	ref = blksnap_bdev_ref_find(bdev);
	name = ref ? ref->name : bdev->bd_disk ? bdev->bd_disk->disk_name : "(closed device)";
	spin_unlock_irqrestore(&blksnap_bdev_refs_lock, flags);
	return name;
}
#endif
