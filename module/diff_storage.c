// SPDX-License-Identifier: GPL-2.0
/*
 * The difference storage holds the original content of every chunk that
 * changed after the snapshot was taken.  It is a regular file, an unnamed
 * file made in a directory, or a whole block device.  All I/O goes through
 * the VFS, so a file may live on any filesystem (tmpfs included) and the
 * filesystem stays in charge of its own blocks.  Writes are pushed out of
 * the page cache and waited for, so that a failing storage is seen by the
 * chunk it fails, not lost in a background writeback.
 *
 * A file starts small and grows with fallocate() in steps of
 * diff_storage_minimum sectors whenever its free space falls below half
 * a step, until the limit given at creation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-storage: " fmt

#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/blksnap.h>
#include "compat.h"
#include "diff_storage.h"
#include "event_queue.h"
#include "stack.h"

/* A step of more than 1 TiB would be one fallocate nobody waits out. */
#define DIFF_STORAGE_STEP_HIGHEST	BIT(31)

static int diff_storage_minimum_set(const char *val,
				    const struct kernel_param *kp)
{
	unsigned long step;
	int ret;

	ret = kstrtoul(val, 0, &step);
	if (ret)
		return ret;
	if (step < PAGE_SECTORS || step > DIFF_STORAGE_STEP_HIGHEST)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, step);
	return 0;
}

static const struct kernel_param_ops diff_storage_minimum_ops = {
	.set = diff_storage_minimum_set,
	.get = param_get_ulong,
};

static unsigned long diff_storage_minimum = 2097152;
module_param_cb(diff_storage_minimum, &diff_storage_minimum_ops,
		&diff_storage_minimum, 0644);
MODULE_PARM_DESC(diff_storage_minimum,
		 "Sectors a difference storage file grows by at a time (8..2^31)");

static sector_t diff_storage_step(void)
{
	/* A step below one page would grow the file forever in crumbs. */
	return max_t(sector_t, READ_ONCE(diff_storage_minimum), PAGE_SECTORS);
}

static void diff_storage_no_space(struct diff_storage *ds, sector_t wanted)
{
	struct blksnap_event_no_space data = { .requested_nr_sect = wanted };

	if (ds->no_space_sent)
		return;
	ds->no_space_sent = true;
	pr_warn("difference storage cannot grow beyond %llu sectors\n",
		(unsigned long long)ds->capacity);
	blksnap_event_gen(ds->events, blksnap_event_code_no_space, &data, sizeof(data));
}

/* Called with ds->lock held. */
static int diff_storage_grow(struct diff_storage *ds)
{
	sector_t step = min_t(sector_t, diff_storage_step(),
			      ds->limit - ds->capacity);
	int ret;

	if (!step) {
		diff_storage_no_space(ds, diff_storage_step());
		return -ENOSPC;
	}
	ret = vfs_fallocate(ds->file, 0, (loff_t)ds->capacity << SECTOR_SHIFT,
			    (loff_t)step << SECTOR_SHIFT);
	if (ret) {
		pr_err("growing the difference storage failed: %d\n", ret);
		if (ret == -ENOSPC)
			diff_storage_no_space(ds, step);
		return ret;
	}
	ds->capacity += step;
	pr_debug("difference storage grown to %llu sectors\n",
		 (unsigned long long)ds->capacity);
	return 0;
}

/**
 * blksnap_diff_storage_alloc() - reserve room for one chunk
 * @ds:		the storage
 * @count:	sectors wanted
 * @offset:	out: first reserved sector
 *
 * Runs in the storing worker, never in the path of a write to an original
 * device, because growing a file may take filesystem locks and time.
 *
 * Return: 0, or a negative errno that makes the snapshot corrupted.
 */
int blksnap_diff_storage_alloc(struct diff_storage *ds, sector_t count,
			       sector_t *offset)
{
	int ret = 0;

	down_read(&ds->file_lock);
	mutex_lock(&ds->lock);
	ret = diff_storage_error(ds);
	if (!ret && !ds->file)
		ret = -ESHUTDOWN;
	if (ret)
		goto out;
	while (ds->capacity - ds->filled < count) {
		ret = ds->growable ? diff_storage_grow(ds) : -ENOSPC;
		if (ret) {
			if (!ds->growable)
				diff_storage_no_space(ds, count);
			diff_storage_fail(ds, ret);
			goto out;
		}
	}
	*offset = ds->filled;
	ds->filled += count;

	/*
	 * Grow ahead of need, so that most chunks find room without
	 * waiting for fallocate.  A failure here is not fatal yet: the
	 * space already there may be enough for the rest of the backup.
	 */
	if (ds->growable && ds->capacity < ds->limit &&
	    ds->capacity - ds->filled < diff_storage_step() / 2)
		diff_storage_grow(ds);
out:
	mutex_unlock(&ds->lock);
	up_read(&ds->file_lock);
	return ret;
}

static int diff_storage_file_rw(struct diff_storage *ds, sector_t offset,
				struct iov_iter *iter, bool write)
{
	loff_t pos = (loff_t)offset << SECTOR_SHIFT;
	size_t count = iov_iter_count(iter);
	ssize_t done;

	if (write) {
		loff_t start = pos;

		file_start_write(ds->file);
		done = vfs_iter_write(ds->file, iter, &pos, 0);
		file_end_write(ds->file);
		if (done < 0)
			return done;
		if (done != count)
			return -EIO;
		/*
		 * The write only reached the page cache.  Push it out and wait,
		 * so that a storage device that fails is noticed now, by this
		 * chunk, and not silently by a writeback nobody checks.
		 */
		return filemap_write_and_wait_range(ds->file->f_mapping, start,
						    pos - 1);
	}
	done = vfs_iter_read(ds->file, iter, &pos, 0);
	if (done < 0)
		return done;
	return done == count ? 0 : -EIO;
}

/**
 * blksnap_diff_storage_rw() - move chunk data between memory and the storage
 * @ds:		the storage
 * @offset:	sector of the storage where @iter starts
 * @iter:	the data; fully consumed on success
 * @write:	direction
 *
 * Return: 0 or a negative errno; -ESHUTDOWN once the snapshot was
 * destroyed and the file released.
 */
int blksnap_diff_storage_rw(struct diff_storage *ds, sector_t offset,
			    struct iov_iter *iter, bool write)
{
	int ret = -ESHUTDOWN;

	down_read(&ds->file_lock);
	if (ds->file)
		ret = diff_storage_file_rw(ds, offset, iter, write);
	up_read(&ds->file_lock);
	return ret;
}

/**
 * blksnap_diff_storage_holds() - whether storage writes can land on a device
 * @ds:		the storage
 * @dev:	the device
 * @whole:	its whole disk
 *
 * True if @dev is the storage's device, its disk or a partition of it, or
 * the same for any device under the storage's device: the backing file's
 * device of a loop device, the members of a dm or md device, and so on
 * down (stack.c).  Copy-on-write of such a device would feed on its own
 * stores.  An unreadable stack counts as the storage's device only.
 *
 * Return: -EPERM if it can, 0 if not, -ENOMEM.
 */
int blksnap_diff_storage_holds(struct diff_storage *ds, dev_t dev, dev_t whole)
{
	struct blksnap_stack *stack;
	bool holds;

	if (!ds->dev_id)
		return 0;
	if (dev == ds->dev_id || dev == ds->whole_id || whole == ds->dev_id)
		return -EPERM;
	stack = kmalloc(sizeof(*stack), GFP_KERNEL);
	if (!stack)
		return -ENOMEM;
	blksnap_stack_build(stack, ds->dev_id);
	holds = blksnap_stack_reaches(stack, 0, dev, whole);
	kfree(stack);
	return holds ? -EPERM : 0;
}

static struct file *diff_storage_open_file(const char *path, umode_t *mode)
{
	struct path p;
	int ret;

	/*
	 * Look before opening: opening a FIFO would block and opening a
	 * character device could have side effects.
	 */
	ret = kern_path(path, LOOKUP_FOLLOW, &p);
	if (ret)
		return ERR_PTR(ret);
	*mode = d_inode(p.dentry)->i_mode;
	path_put(&p);

	if (S_ISDIR(*mode))
		return filp_open(path, O_RDWR | O_TMPFILE | O_LARGEFILE, 0600);
	if (S_ISREG(*mode))
		return filp_open(path, O_RDWR | O_LARGEFILE, 0);
	if (S_ISBLK(*mode))
		/* O_EXCL makes the open exclusive, so nobody mounts it. */
		return filp_open(path, O_RDWR | O_LARGEFILE | O_EXCL, 0);
	return ERR_PTR(-EINVAL);
}

/**
 * blksnap_diff_storage_open() - open the difference storage of a new snapshot
 * @path:	regular file, directory or block device
 * @limit:	most sectors to use; 0 only for a block device (all of it)
 * @events:	where the storage reports running out of space
 *
 * Return: the storage or an ERR_PTR: -EINVAL for another kind of file or
 * a zero limit on a file, -EOPNOTSUPP if the filesystem cannot fallocate,
 * or what the open reported (-EBUSY for a block device in use).
 */
struct diff_storage *blksnap_diff_storage_open(const char *path, sector_t limit,
					       struct event_queue *events)
{
	struct diff_storage *ds;
	struct file *file;
	umode_t mode;
	int ret;

	file = diff_storage_open_file(path, &mode);
	if (IS_ERR(file))
		return ERR_CAST(file);

	/* The name may have been replaced between the look and the open. */
	if ((file_inode(file)->i_mode & S_IFMT) != (mode & S_IFMT) &&
	    !S_ISDIR(mode)) {
		ret = -EINVAL;
		goto fail_file;
	}

	ds = kzalloc(sizeof(*ds), GFP_KERNEL);
	if (!ds) {
		ret = -ENOMEM;
		goto fail_file;
	}
	ds->file = file;
	init_rwsem(&ds->file_lock);
	ds->events = events;
	mutex_init(&ds->lock);

	if (S_ISBLK(mode)) {
		struct block_device *bdev = I_BDEV(file->f_mapping->host);

		ds->dev_id = bdev->bd_dev;
		ds->whole_id = bdev_whole(bdev)->bd_dev;
		ds->capacity = bdev_nr_sectors(bdev);
		if (limit && limit < ds->capacity)
			ds->capacity = limit;
		ds->limit = ds->capacity;
	} else {
		struct super_block *sb = file_inode(file)->i_sb;

		if (!limit) {
			ret = -EINVAL;
			goto fail_ds;
		}
		if (sb->s_bdev) {
			ds->dev_id = sb->s_bdev->bd_dev;
			ds->whole_id = bdev_whole(sb->s_bdev)->bd_dev;
		}
		ds->growable = true;
		ds->limit = limit;
		mutex_lock(&ds->lock);
		ret = diff_storage_grow(ds);
		mutex_unlock(&ds->lock);
		if (ret)
			goto fail_ds;
	}
	pr_debug("opened %s: %llu sectors, limit %llu\n", path,
		 (unsigned long long)ds->capacity,
		 (unsigned long long)ds->limit);
	return ds;

fail_ds:
	kfree(ds);
fail_file:
	fput(file);
	return ERR_PTR(ret);
}

/**
 * blksnap_diff_storage_release_file() - close the file of a destroyed snapshot
 * @ds:		the storage
 *
 * Waits for the I/O in progress; later I/O fails with -ESHUTDOWN.  Called
 * from the DESTROY ioctl (or module exit), a user task: the final fput then
 * runs before the task returns to user space, so an exclusively opened
 * block device is free again and an unnamed file is gone by then.  The
 * structure itself lives on with its last user (an image still open).
 */
void blksnap_diff_storage_release_file(struct diff_storage *ds)
{
	struct file *file;

	down_write(&ds->file_lock);
	file = ds->file;
	ds->file = NULL;
	up_write(&ds->file_lock);
	if (file)
		fput(file);
}

void blksnap_diff_storage_close(struct diff_storage *ds)
{
	blksnap_diff_storage_release_file(ds);
	kfree(ds);
}
