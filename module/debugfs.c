// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/blksnap/: state for humans and benchmarks.
 *
 *   trackers    one line per attached filter: device, CBT geometry,
 *               generation and numbers (read-only)
 *   memory      totals: tracked bytes, CBT map bytes, CBT bytes per GiB
 *               tracked (read-only)
 *   snapshots   one line per snapshot (storage use) and per device
 *               (chunk size, changed chunks, memory they hold)
 *   cbt_switch  write "MAJOR:MINOR" to switch that device's CBT maps as a
 *               snapshot take would (root-only test knob, mode 0200)
 *   fail_freeze write "MAJOR:MINOR" to make the next take's freeze of that
 *               device fail with EBUSY, as a filesystem that refuses to
 *               freeze would (root-only test knob, mode 0200; "0:0"
 *               disarms).  The tests cannot make a real freeze fail on
 *               every kernel: since 6.8 a freeze by the kernel nests
 *               inside one by user space instead of failing.
 *
 * Nothing here is an interface: formats may change.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/kdev_t.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "debugfs.h"
#include "filter.h"
#include "snapshot.h"
#include "tracker.h"

static struct dentry *blksnap_debugfs_dir;
/* The device whose next freeze fails; 0 (no device has it) when disarmed. */
static atomic_t blksnap_fail_freeze_dev = ATOMIC_INIT(0);

static void trackers_show_one(struct tracker *tracker, void *data)
{
	struct seq_file *m = data;
	struct cbt_map *map = &tracker->cbt;

	spin_lock(&map->lock);
	seq_printf(m, BLKSNAP_PG " %u:%u capacity=%llu block_size=%u block_count=%u generation=%pUb changes_number=%u active=%u cbt_bytes=%zu\n",
		   BLKSNAP_PG_ARG(tracker->bdev), MAJOR(tracker->bdev->bd_dev),
		   MINOR(tracker->bdev->bd_dev),
		   (unsigned long long)map->capacity << SECTOR_SHIFT,
		   1U << (map->block_shift + SECTOR_SHIFT), map->block_count,
		   &map->generation_id, map->reported, map->active,
		   blksnap_cbt_map_bytes(map));
	spin_unlock(&map->lock);
}

static int trackers_show(struct seq_file *m, void *unused)
{
	blksnap_filter_for_each(trackers_show_one, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(trackers);

struct memory_totals {
	unsigned int trackers;
	u64 tracked_bytes;
	u64 cbt_bytes;
};

static void memory_add_one(struct tracker *tracker, void *data)
{
	struct memory_totals *totals = data;

	spin_lock(&tracker->cbt.lock);
	totals->trackers++;
	totals->tracked_bytes += (u64)tracker->cbt.capacity << SECTOR_SHIFT;
	totals->cbt_bytes += blksnap_cbt_map_bytes(&tracker->cbt);
	spin_unlock(&tracker->cbt.lock);
}

static int memory_show(struct seq_file *m, void *unused)
{
	struct memory_totals totals = {};
	u64 per_gib = 0;

	blksnap_filter_for_each(memory_add_one, &totals);
	if (totals.tracked_bytes)
		per_gib = div64_u64(totals.cbt_bytes << 30, totals.tracked_bytes);
	seq_printf(m, "trackers %u\ntracked_bytes %llu\ncbt_bytes %llu\ncbt_bytes_per_gib %llu\n",
		   totals.trackers, totals.tracked_bytes, totals.cbt_bytes,
		   per_gib);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memory);

static int snapshots_show(struct seq_file *m, void *unused)
{
	blksnap_snapshot_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(snapshots);

/* A "MAJOR:MINOR" written by root to one of the knobs. */
static int knob_read_dev(const char __user *ubuf, size_t len, dev_t *dev)
{
	unsigned int major, minor;
	char buf[32];

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%u:%u", &major, &minor) != 2 ||
	    major >= 1U << (32 - MINORBITS) || minor > MINORMASK)
		return -EINVAL;
	*dev = MKDEV(major, minor);
	return 0;
}

static ssize_t cbt_switch_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct tracker *tracker;
	dev_t dev;
	int ret;

	ret = knob_read_dev(ubuf, len, &dev);
	if (ret)
		return ret;
	tracker = blksnap_filter_find(dev);
	if (!tracker)
		return -ENOENT;
	mutex_lock(&tracker->ctl_lock);
	ret = blksnap_tracker_check_capacity(tracker);
	if (!ret)
		blksnap_cbt_map_switch(&tracker->cbt);
	mutex_unlock(&tracker->ctl_lock);
	blksnap_tracker_put(tracker);
	return ret ? ret : len;
}

static const struct file_operations cbt_switch_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = cbt_switch_write,
	.llseek = noop_llseek,
};

static ssize_t fail_freeze_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	dev_t dev;
	int ret;

	ret = knob_read_dev(ubuf, len, &dev);
	if (ret)
		return ret;
	atomic_set(&blksnap_fail_freeze_dev, dev);
	return len;
}

static const struct file_operations fail_freeze_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = fail_freeze_write,
	.llseek = noop_llseek,
};

/**
 * blksnap_debugfs_freeze_fails() - whether fail_freeze is armed for @dev
 * @dev: the device a take is about to freeze
 *
 * Disarms the knob: only the next freeze of @dev fails.
 *
 * Return: true if the caller is to fail that freeze.
 */
bool blksnap_debugfs_freeze_fails(dev_t dev)
{
	return dev && atomic_cmpxchg(&blksnap_fail_freeze_dev, dev, 0) == dev;
}

void blksnap_debugfs_init(void)
{
	/* debugfs is optional: failures only cost the diagnostics. */
	blksnap_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("trackers", 0444, blksnap_debugfs_dir, NULL,
			    &trackers_fops);
	debugfs_create_file("memory", 0444, blksnap_debugfs_dir, NULL,
			    &memory_fops);
	debugfs_create_file("snapshots", 0444, blksnap_debugfs_dir, NULL,
			    &snapshots_fops);
	debugfs_create_file("cbt_switch", 0200, blksnap_debugfs_dir, NULL,
			    &cbt_switch_fops);
	debugfs_create_file("fail_freeze", 0200, blksnap_debugfs_dir, NULL,
			    &fail_freeze_fops);
}

void blksnap_debugfs_done(void)
{
	debugfs_remove_recursive(blksnap_debugfs_dir);
}
