// SPDX-License-Identifier: GPL-2.0
/*
 * The blksnap filter on one block device: its CBT map, its BLKFILTER_CTL
 * commands and the place where snapshots hook copy-on-write.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/blksnap.h>
#include "compat.h"
#include "snapshot.h"
#include "tracker.h"

/* Bounds the kernel copy of a CBTDIRTY request: 1 Mi ranges, 16 MiB. */
#define TRACKER_DIRTY_MAX_RANGES	1048576U

struct tracker *blksnap_tracker_create(struct block_device *bdev)
{
	struct tracker *tracker;
	sector_t capacity = bdev_nr_sectors(bdev);
	int ret;

	if (!capacity)
		return ERR_PTR(-ENODEV);
	tracker = kzalloc(sizeof(*tracker), GFP_KERNEL);
	if (!tracker)
		return ERR_PTR(-ENOMEM);
	ret = blksnap_cbt_map_init(&tracker->cbt, capacity);
	if (ret) {
		kfree(tracker);
		return ERR_PTR(ret);
	}
	ret = blksnap_bdev_hold(bdev);
	if (ret) {
		blksnap_cbt_map_destroy(&tracker->cbt);
		kfree(tracker);
		return ERR_PTR(ret);
	}
	refcount_set(&tracker->refs, 1);
	mutex_init(&tracker->ctl_lock);
	tracker->bdev = bdev;
	/*
	 * No module reference: as upstream, unloading detaches every filter
	 * (blksnap_filter_detach_all()), and the hooks that could reach a tracker are
	 * gone before that.
	 */
	return tracker;
}

void blksnap_tracker_put(struct tracker *tracker)
{
	if (!refcount_dec_and_test(&tracker->refs))
		return;
	blksnap_cbt_map_destroy(&tracker->cbt);
	blksnap_bdev_unhold(tracker->bdev);
	mutex_destroy(&tracker->ctl_lock);
	kfree(tracker);
}

bool blksnap_tracker_bio_changes_data(struct bio *bio)
{
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_SECURE_ERASE:
	case REQ_OP_WRITE_ZEROES:
		return bio_sectors(bio) != 0;
	default:
		return false;
	}
}

struct cbt_stamp blksnap_tracker_mark(struct tracker *tracker, sector_t sector,
				      sector_t count)
{
	return blksnap_cbt_map_mark(&tracker->cbt, sector, count);
}

void blksnap_tracker_wait_idle(struct tracker *tracker)
{
	blksnap_cbt_map_wait_drained(&tracker->cbt, 0);
	blksnap_cbt_map_wait_drained(&tracker->cbt, 1);
}

int blksnap_tracker_check_capacity(struct tracker *tracker)
{
	sector_t capacity = bdev_nr_sectors(tracker->bdev);

	lockdep_assert_held(&tracker->ctl_lock);
	if (capacity == READ_ONCE(tracker->cbt.capacity))
		return 0;
	if (!capacity)
		return -ENODEV;
	return blksnap_cbt_map_rebuild(&tracker->cbt, capacity);
}

static long tracker_ctl_cbtinfo(struct tracker *tracker, void __user *opt,
				u32 optlen)
{
	struct blksnap_cbtinfo info;

	if (optlen < sizeof(info))
		return -EINVAL;
	blksnap_cbt_map_info(&tracker->cbt, &info);
	if (copy_to_user(opt, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long tracker_ctl_cbtmap(struct tracker *tracker, void __user *opt,
			       u32 optlen)
{
	struct blksnap_cbtmap arg;

	if (optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	return blksnap_cbt_map_read(&tracker->cbt, arg.offset,
				    u64_to_user_ptr(arg.buffer), arg.length);
}

static long tracker_ctl_cbtdirty(struct tracker *tracker, void __user *opt,
				 u32 optlen)
{
	struct blksnap_cbtdirty arg;
	struct blksnap_sectors *ranges;
	long ret;

	if (optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	if (!arg.count)
		return 0;
	if (arg.count > TRACKER_DIRTY_MAX_RANGES)
		return -EINVAL;
	ranges = vmemdup_user(u64_to_user_ptr(arg.dirty_sectors),
			      array_size(arg.count, sizeof(*ranges)));
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	ret = blksnap_cbt_map_mark_dirty(&tracker->cbt, ranges, arg.count);
	kvfree(ranges);
	return ret;
}

/*
 * @optlen is the size of the caller's buffer.  As upstream, a buffer larger
 * than the command's structure is accepted (only the structure is read or
 * written), a smaller one is EINVAL, and optlen is never written back.
 */
typedef long (*tracker_ctl_fn)(struct tracker *tracker, void __user *opt,
			       u32 optlen);

static const tracker_ctl_fn tracker_ctls[] = {
	[blkfilter_ctl_blksnap_cbtinfo] = tracker_ctl_cbtinfo,
	[blkfilter_ctl_blksnap_cbtmap] = tracker_ctl_cbtmap,
	[blkfilter_ctl_blksnap_cbtdirty] = tracker_ctl_cbtdirty,
	[blkfilter_ctl_blksnap_snapshotadd] = blksnap_snapshot_ctl_add,
	[blkfilter_ctl_blksnap_snapshotinfo] = blksnap_snapshot_ctl_info,
};

long blksnap_tracker_ctl(struct tracker *tracker, unsigned int cmd,
			 void __user *opt, u32 optlen)
{
	long ret;

	if (cmd >= ARRAY_SIZE(tracker_ctls))
		return -ENOTTY;
	mutex_lock(&tracker->ctl_lock);
	ret = blksnap_tracker_check_capacity(tracker);
	if (!ret)
		ret = tracker_ctls[cmd](tracker, opt, optlen);
	mutex_unlock(&tracker->ctl_lock);
	return ret;
}
