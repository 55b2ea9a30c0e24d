// SPDX-License-Identifier: GPL-2.0
/*
 * The blkfilter interface of upstream kernels, emulated on a stock kernel.
 *
 * Attached trackers live in an xarray indexed by the dev_t of the WHOLE
 * disk; each entry is an immutable set of the trackers of that disk and
 * its partitions, replaced under RCU when a filter is attached or
 * detached.  A bio costs one lookup; for a disk without filters that is
 * all.  Every tracker of the set marks the part of the bio that falls in
 * its own extent, so a write through /dev/vda1 is seen by filters on both
 * vda1 and vda, and a write to vda that lands inside vda1 by both too.
 *
 * BLKFILTER_* ioctl errors (after CAP_SYS_ADMIN, EPERM, and copying the
 * argument, EFAULT):
 *   ENOENT     ATTACH: name is not "blksnap"; DETACH/CTL when not attached
 *   EINVAL     DETACH/CTL naming another filter while blksnap is attached
 *   EALREADY   ATTACH when already attached
 *   ENODEV     ATTACH to a device that is going away or has no medium
 *   EOPNOTSUPP ATTACH to a zoned device
 *   EBUSY      DETACH while the device is in a snapshot
 *   ENOMEM     allocation failure; nothing changed
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mempool.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/blk-filter.h>
#include <uapi/linux/blksnap.h>
#include "compat.h"
#include "filter.h"
#include "hook.h"
#include "tracker.h"

/*
 * A write in flight on tracked devices: what its completion must undo.
 * The bio's own completion is saved here and restored when it ends; each
 * tracker the bio marked counts it in flight until then, which is what a
 * take waits for (struct cbt_map).  There is one entry per tracker of the
 * disk, however many: no filter is ever skipped.
 *
 * Copy-on-write may hold the bio until the original content of its chunks
 * is in memory: @holds counts who still holds it (the filter itself while
 * it runs the trackers, plus every diff area waiting for a load), and the
 * last to let go submits it, or ends it with BLK_STS_AGAIN if a tracker
 * refused a REQ_NOWAIT bio.
 */
struct filter_io {
	bio_end_io_t *end_io;
	void *private;
	atomic_t holds;
	bool refused;
	unsigned int capacity;
	unsigned int count;
	struct filter_io_mark {
		struct tracker *tracker;
		struct cbt_stamp stamp;
	} marks[];
};

/*
 * A disk and a few partitions fit a pooled entry, which a blocking writer
 * always gets; sets larger than that are allocated one by one.
 */
#define FILTER_IO_POOLED	8
#define FILTER_IO_POOLED_SIZE	\
	(sizeof(struct filter_io) + \
	 FILTER_IO_POOLED * sizeof(struct filter_io_mark))
#define FILTER_IO_POOL_MIN	64

static mempool_t *filter_io_pool;

/* Writes submitted in atomic context, run by filter_deferred_work. */
static DEFINE_SPINLOCK(filter_deferred_lock);
static struct bio_list filter_deferred = BIO_EMPTY_LIST;
static struct workqueue_struct *filter_wq;
static void filter_deferred_fn(struct work_struct *work);
static DECLARE_WORK(filter_deferred_work, filter_deferred_fn);

/*
 * @disk is the disk every tracker of the set is on.  A dev_t is free for a
 * new disk as soon as del_gendisk() returns, before filter_del_gendisk()
 * detaches the old disk's filters: bios of the new disk must not reach them.
 */
struct filter_set {
	struct rcu_head rcu;
	struct gendisk *disk;
	unsigned int count;
	struct tracker *trackers[];
};

static DEFINE_MUTEX(filter_lock);	/* serialises changes of filter_table */
static DEFINE_XARRAY(filter_table);	/* whole-disk dev_t -> filter_set */

static dev_t filter_key(struct block_device *bdev)
{
	return disk_devt(blksnap_bdev_disk(bdev));
}

/* Replaces the set of @key by a copy with @add added or @del removed. */
static int filter_set_update(dev_t key, struct tracker *add,
			     struct tracker *del)
{
	struct filter_set *old, *new = NULL;
	unsigned int i, n = 0, count;
	int ret;

	lockdep_assert_held(&filter_lock);
	old = xa_load(&filter_table, key);
	count = (old ? old->count : 0) + (add ? 1 : 0) - (del ? 1 : 0);
	if (count) {
		new = kzalloc(struct_size(new, trackers, count), GFP_KERNEL);
		if (!new)
			return -ENOMEM;
		for (i = 0; old && i < old->count; i++)
			if (old->trackers[i] != del)
				new->trackers[n++] = old->trackers[i];
		if (add)
			new->trackers[n++] = add;
		new->count = n;
		new->disk = blksnap_bdev_disk(new->trackers[0]->bdev);
	}
	if (new)
		ret = xa_err(xa_store(&filter_table, key, new, GFP_KERNEL));
	else
		ret = xa_err(xa_erase(&filter_table, key));
	if (ret) {
		kfree(new);
		return ret;
	}
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static struct tracker *filter_lookup_locked(struct block_device *bdev)
{
	struct filter_set *set = xa_load(&filter_table, filter_key(bdev));
	unsigned int i;

	for (i = 0; set && i < set->count; i++)
		if (set->trackers[i]->bdev == bdev)
			return set->trackers[i];
	return NULL;
}

/*
 * Takes @tracker out of the bio path, waits until no bio path can still
 * see it, and drops the table's reference.  Needs filter_lock.
 */
static void filter_unlink(struct tracker *tracker)
{
	/*
	 * Shrinking a set allocates.  A device that is going away must lose
	 * its filter all the same, so retry rather than fail.
	 */
	while (filter_set_update(filter_key(tracker->bdev), NULL, tracker))
		cond_resched();
	synchronize_rcu();
	blksnap_tracker_release_snapshot(tracker);
	/*
	 * Writes in flight still refer to the tracker from their completion,
	 * which touches it under RCU (filter_io_end()): wait for them, then
	 * for the last completion to leave its read-side section.
	 */
	blksnap_tracker_wait_idle(tracker);
	synchronize_rcu();
	blksnap_tracker_put(tracker);
}

/* A partition deleted by a rescan or BLKPG, or a disk being removed. */
static bool filter_bdev_gone(struct block_device *bdev)
{
	return !disk_live(blksnap_bdev_disk(bdev)) ||
	       inode_unhashed(blksnap_bdev_inode(bdev));
}

/*
 * Detaches the filters of @disk: all of them (the disk or its medium went
 * away), or only those whose partition no longer exists.
 */
static void filter_detach_disk(struct gendisk *disk, bool all)
{
	struct filter_set *set;
	struct tracker *tracker;
	unsigned int i;

	mutex_lock(&filter_lock);
	for (;;) {
		set = xa_load(&filter_table, disk_devt(disk));
		tracker = NULL;
		for (i = 0; set && i < set->count; i++) {
			if (all || filter_bdev_gone(set->trackers[i]->bdev)) {
				tracker = set->trackers[i];
				break;
			}
		}
		if (!tracker)
			break;
		pr_info("device " BLKSNAP_PG " went away, filter detached\n",
			BLKSNAP_PG_ARG(tracker->bdev));
		filter_unlink(tracker);
	}
	mutex_unlock(&filter_lock);
}

static int filter_attach(struct block_device *bdev)
{
	struct tracker *tracker;
	int ret;

	if (bdev_is_zoned(bdev))
		return -EOPNOTSUPP;
	filter_detach_disk(bdev->bd_disk, false);

	mutex_lock(&filter_lock);
	if (filter_lookup_locked(bdev)) {
		ret = -EALREADY;
		goto out;
	}
	/* Checked under filter_lock: removal detaches under it afterwards. */
	if (filter_bdev_gone(bdev)) {
		ret = -ENODEV;
		goto out;
	}
	tracker = blksnap_tracker_create(bdev);
	if (IS_ERR(tracker)) {
		ret = PTR_ERR(tracker);
		goto out;
	}
	ret = filter_set_update(filter_key(bdev), tracker, NULL);
	if (ret)
		blksnap_tracker_put(tracker);
	else
		pr_debug("filter attached to " BLKSNAP_PG "\n",
			 BLKSNAP_PG_ARG(bdev));
out:
	mutex_unlock(&filter_lock);
	return ret;
}

static int filter_detach(struct block_device *bdev)
{
	struct tracker *tracker;
	int ret;

	mutex_lock(&filter_lock);
	tracker = filter_lookup_locked(bdev);
	if (!tracker) {
		ret = -ENOENT;
		goto out;
	}
	ret = blksnap_tracker_may_detach(tracker);
	if (ret)
		goto out;
	filter_unlink(tracker);
	pr_debug("filter detached from " BLKSNAP_PG "\n", BLKSNAP_PG_ARG(bdev));
out:
	mutex_unlock(&filter_lock);
	return ret;
}

static struct tracker *filter_get(struct block_device *bdev)
{
	struct tracker *tracker;

	mutex_lock(&filter_lock);
	tracker = filter_lookup_locked(bdev);
	if (tracker)
		tracker_get(tracker);
	mutex_unlock(&filter_lock);
	return tracker;
}

struct tracker *blksnap_filter_find(dev_t dev)
{
	struct filter_set *set;
	struct tracker *found = NULL;
	unsigned long key;
	unsigned int i;

	mutex_lock(&filter_lock);
	xa_for_each(&filter_table, key, set) {
		for (i = 0; i < set->count; i++) {
			if (set->trackers[i]->bdev->bd_dev == dev) {
				found = set->trackers[i];
				tracker_get(found);
				goto out;
			}
		}
	}
out:
	mutex_unlock(&filter_lock);
	return found;
}

void blksnap_filter_for_each(void (*fn)(struct tracker *tracker, void *data),
			     void *data)
{
	struct filter_set *set;
	unsigned long key;
	unsigned int i;

	mutex_lock(&filter_lock);
	xa_for_each(&filter_table, key, set)
		for (i = 0; i < set->count; i++)
			fn(set->trackers[i], data);
	mutex_unlock(&filter_lock);
}

/* Compares a NUL-padded name field with our filter's name. */
static bool filter_name_is_ours(const __u8 *name)
{
	return strnlen(name, BLKFILTER_NAME_LENGTH) < BLKFILTER_NAME_LENGTH &&
	       !strcmp(name, BLKSNAP_FILTER_NAME);
}

static long filter_ioctl_attach(struct block_device *bdev,
				struct blkfilter_attach __user *argp)
{
	struct blkfilter_attach arg;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (!filter_name_is_ours(arg.name))
		return -ENOENT;
	/*
	 * blksnap has no attach options; like upstream's, it ignores opt and
	 * optlen instead of refusing them, so upstream's callers behave alike.
	 */
	return filter_attach(bdev);
}

/*
 * DETACH and CTL naming another filter: as upstream, ENOENT when no filter
 * is attached, EINVAL when ours is (the name does not match it).
 */
static long filter_wrong_name(struct block_device *bdev)
{
	struct tracker *tracker = filter_get(bdev);

	if (!tracker)
		return -ENOENT;
	blksnap_tracker_put(tracker);
	return -EINVAL;
}

static long filter_ioctl_detach(struct block_device *bdev,
				struct blkfilter_detach __user *argp)
{
	struct blkfilter_detach arg;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (!filter_name_is_ours(arg.name))
		return filter_wrong_name(bdev);
	return filter_detach(bdev);
}

static long filter_ioctl_ctl(struct block_device *bdev,
			     struct blkfilter_ctl __user *argp)
{
	struct blkfilter_ctl arg;
	struct tracker *tracker;
	long ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (!filter_name_is_ours(arg.name))
		return filter_wrong_name(bdev);
	tracker = filter_get(bdev);
	if (!tracker)
		return -ENOENT;
	ret = blksnap_tracker_ctl(tracker, arg.cmd, u64_to_user_ptr(arg.opt),
				  arg.optlen);
	blksnap_tracker_put(tracker);
	return ret;
}

static long filter_ioctl(struct block_device *bdev, unsigned int cmd,
			 void __user *argp)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case BLKFILTER_ATTACH:
		return filter_ioctl_attach(bdev, argp);
	case BLKFILTER_DETACH:
		return filter_ioctl_detach(bdev, argp);
	default:
		return filter_ioctl_ctl(bdev, argp);
	}
}

static struct filter_io *filter_io_alloc(unsigned int count, gfp_t gfp)
{
	struct filter_io *io;

	if (count <= FILTER_IO_POOLED) {
		io = mempool_alloc(filter_io_pool, gfp);
		count = FILTER_IO_POOLED;
	} else {
		/*
		 * More than FILTER_IO_POOLED filters on one disk: rare, and at
		 * most one entry per partition.  A blocking writer may not be
		 * failed for a snapshot's sake, so it waits for the memory.
		 */
		if (!(gfp & __GFP_DIRECT_RECLAIM))
			gfp |= __GFP_NOWARN;
		else
			gfp |= __GFP_NOFAIL;
		io = kmalloc(struct_size(io, marks, count), gfp);
	}
	if (io)
		io->capacity = count;
	return io;
}

static void filter_io_free(struct filter_io *io)
{
	if (io->capacity <= FILTER_IO_POOLED)
		mempool_free(io, filter_io_pool);
	else
		kfree(io);
}

/* The write has completed: it is no longer in flight on any tracker. */
static void filter_io_end(struct bio *bio)
{
	struct filter_io *io = bio->bi_private;
	unsigned int i;

	bio->bi_end_io = io->end_io;
	bio->bi_private = io->private;
	/* Pairs with filter_unlink(): the trackers stay until we leave. */
	rcu_read_lock();
	for (i = 0; i < io->count; i++)
		tracker_write_done(io->marks[i].tracker, io->marks[i].stamp);
	rcu_read_unlock();
	filter_io_free(io);
	/*
	 * Through bio_endio() again, not by calling the restored end_io: a
	 * chained bio's is bio_chain_endio(), which only bio_endio() may
	 * handle (on 7.2 calling it is a BUG).  The first pass already
	 * counted the chain's remainder down and cleared BIO_CHAIN.
	 */
	bio_endio(bio);
}

/*
 * Stamps @bio on every tracker of its disk whose extent it touches, into
 * @io.  Returns false, having marked nothing, if @io is too small for the
 * disk's set of filters; @need says how large it must be.
 */
static bool filter_mark(struct bio *bio, struct filter_io *io,
			unsigned int *need)
{
	struct gendisk *disk = blksnap_bio_disk(bio);
	struct filter_set *set;
	sector_t start, end;
	unsigned int i;

	start = blksnap_bio_disk_sector(bio);
	end = start + bio_sectors(bio);

	io->count = 0;
	rcu_read_lock();
	set = xa_load(&filter_table, disk_devt(disk));
	if (set && set->disk != disk)
		set = NULL;	/* a reused dev_t: the set belongs to a gone disk */
	*need = set ? set->count : 0;
	if (*need > io->capacity) {
		rcu_read_unlock();
		return false;
	}
	for (i = 0; i < *need; i++) {
		struct tracker *tracker = set->trackers[i];
		sector_t base = blksnap_bdev_start_sect(tracker->bdev);
		sector_t first = base;
		sector_t last = first + bdev_nr_sectors(tracker->bdev);

		first = max(first, start);
		last = min(last, end);
		if (first >= last)
			continue;
		io->marks[io->count].tracker = tracker;
		io->marks[io->count].stamp =
			blksnap_tracker_mark(tracker,
					     first - base,
					     last - first);
		io->count++;
	}
	rcu_read_unlock();
	return true;
}

static bool filter_disk_tracked(struct gendisk *disk)
{
	struct filter_set *set;
	bool tracked;

	rcu_read_lock();
	set = xa_load(&filter_table, disk_devt(disk));
	tracked = set && set->disk == disk;
	rcu_read_unlock();
	return tracked;
}

/*
 * The bio path.  Returns true if the filter took the bio over (it is then
 * submitted or ended here, or later once copy-on-write lets it go);
 * otherwise the caller submits it.  The bio is stamped on every tracker it touches and
 * counted in flight there until it completes; copy-on-write, which may
 * sleep, runs after RCU is dropped.  The trackers cannot go away meanwhile:
 * a detach waits until the bio is no longer in flight (filter_unlink()).
 * Process context only, see filter_submit_bio_noacct().
 */
static bool filter_bio(struct bio *bio)
{
	gfp_t gfp = bio->bi_opf & REQ_NOWAIT ? GFP_NOWAIT : GFP_NOIO;
	unsigned int i, need = FILTER_IO_POOLED;
	struct filter_io *io;

	might_sleep();
	if (!filter_disk_tracked(blksnap_bio_disk(bio)))
		return false;
	for (;;) {
		io = filter_io_alloc(need, gfp);
		if (!io) {
			/* Only a writer that may not wait gets here. */
			bio_wouldblock_error(bio);
			return true;
		}
		if (filter_mark(bio, io, &need))
			break;
		filter_io_free(io);
	}
	if (!io->count) {
		filter_io_free(io);
		return false;
	}
	io->end_io = bio->bi_end_io;
	io->private = bio->bi_private;
	atomic_set(&io->holds, 1);
	io->refused = false;
	bio->bi_end_io = filter_io_end;
	bio->bi_private = io;

	/* Our own hold keeps @io alive until every tracker has seen the bio. */
	for (i = 0; i < io->count; i++)
		blksnap_tracker_cow(io->marks[i].tracker, bio, io->marks[i].stamp);
	blksnap_filter_release(bio);
	return true;
}

/**
 * blksnap_filter_hold() - keep a marked bio from being submitted
 * @bio:	a bio in blksnap_tracker_cow(), for the tracker that holds it
 *
 * Each hold is dropped with blksnap_filter_release(), from process context.
 */
void blksnap_filter_hold(struct bio *bio)
{
	struct filter_io *io = bio->bi_private;

	atomic_inc(&io->holds);
}

/**
 * blksnap_filter_refuse() - end a REQ_NOWAIT bio with BLK_STS_AGAIN
 * @bio:	a bio in blksnap_tracker_cow()
 *
 * The bio ends once the last hold on it is dropped, never while a diff
 * area still has it on a list.
 */
void blksnap_filter_refuse(struct bio *bio)
{
	struct filter_io *io = bio->bi_private;

	WRITE_ONCE(io->refused, true);
}

/**
 * blksnap_filter_release() - drop one hold; the last one sends the bio on
 * @bio:	a bio held with blksnap_filter_hold(), or in filter_bio()
 *
 * May sleep (submission).  The bio is submitted from module text, so it
 * goes to the device without passing the filter again; its completion
 * still ends its count in flight.
 */
void blksnap_filter_release(struct bio *bio)
{
	struct filter_io *io = bio->bi_private;

	if (!atomic_dec_and_test(&io->holds))
		return;
	if (READ_ONCE(io->refused))
		bio_wouldblock_error(bio);
	else
		submit_bio_noacct(bio);
}

/*
 * Whether the submitter may sleep.  Without a preemption counter a held
 * spinlock cannot be seen, but interrupts and disabled interrupts can.
 */
static bool filter_may_sleep(void)
{
	if (!in_task() || irqs_disabled())
		return false;
	return !IS_ENABLED(CONFIG_PREEMPT_COUNT) || !preempt_count();
}

static void filter_deferred_fn(struct work_struct *work)
{
	unsigned int noio = memalloc_noio_save();
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&filter_deferred_lock);
	bios = filter_deferred;
	bio_list_init(&filter_deferred);
	spin_unlock_irq(&filter_deferred_lock);

	while ((bio = bio_list_pop(&bios))) {
		if (!filter_bio(bio))
			submit_bio_noacct(bio);
		cond_resched();
	}
	memalloc_noio_restore(noio);
}

/*
 * A top-level write from atomic context (an interrupt, a held spinlock)
 * must neither sleep nor spin on the CBT map lock, which is taken in
 * process context only.  Such a write to a tracked disk runs the filter in
 * a worker instead, which then submits it; writes to other disks and every
 * other bio pass straight on.
 */
static bool filter_defer(struct bio *bio)
{
	unsigned long flags;

	if (filter_may_sleep() || !filter_disk_tracked(blksnap_bio_disk(bio)))
		return false;
	spin_lock_irqsave(&filter_deferred_lock, flags);
	bio_list_add(&filter_deferred, bio);
	spin_unlock_irqrestore(&filter_deferred_lock, flags);
	queue_work(filter_wq, &filter_deferred_work);
	return true;
}

/* Whether a filter took @bio over; if not, the caller submits it. */
static bool filter_takes(struct bio *bio)
{
	/* Only top-level submissions: nested ones were seen at the top. */
	if (current->bio_list || !blksnap_tracker_bio_changes_data(bio))
		return false;
	return filter_defer(bio) || filter_bio(bio);
}

#ifdef BLKSNAP_HAVE_VOID_SUBMIT_BIO
static void notrace filter_submit_bio_noacct(struct bio *bio)
{
	bool entered = blksnap_hook_enter();

	if (!entered || !filter_takes(bio))
		submit_bio_noacct(bio);
	if (entered)
		blksnap_hook_leave();
}
#else
/* Before 5.16 the submitter gets a cookie back, to poll for completion. */
static blk_qc_t notrace filter_submit_bio_noacct(struct bio *bio)
{
	bool entered = blksnap_hook_enter();
	blk_qc_t cookie = BLK_QC_T_NONE;

	if (!entered || !filter_takes(bio))
		cookie = submit_bio_noacct(bio);
	if (entered)
		blksnap_hook_leave();
	return cookie;
}
#endif

enum filter_hook_index {
	FILTER_HOOK_SUBMIT_BIO,
	FILTER_HOOK_BLKDEV_IOCTL,
	FILTER_HOOK_DEL_GENDISK,
#ifdef BLKSNAP_HAVE_INVALIDATE_DISK
	FILTER_HOOK_INVALIDATE_DISK,
#endif
	FILTER_HOOK_DISK_CHANGED,
	FILTER_HOOK_SET_CAPACITY,
	FILTER_HOOK_DEL_PARTITION,
#ifdef BLKSNAP_HAVE_BD_SET_NR_SECTORS
	FILTER_HOOK_SET_NR_SECTORS,
#endif
#ifdef BLKSNAP_HAVE_REVALIDATE_DISK_SIZE
	FILTER_HOOK_REVALIDATE_SIZE,
#endif
	FILTER_HOOK_COUNT
};

static struct hook filter_hooks[FILTER_HOOK_COUNT];

static long notrace filter_blkdev_ioctl(struct file *file, unsigned int cmd,
					unsigned long arg)
{
	long (*blkdev_ioctl)(struct file *file, unsigned int cmd,
			     unsigned long arg);
	long ret;

	blkdev_ioctl = (void *)filter_hooks[FILTER_HOOK_BLKDEV_IOCTL].address;
	if (!blksnap_hook_enter())
		return blkdev_ioctl(file, cmd, arg);
	switch (cmd) {
	case BLKFILTER_ATTACH:
	case BLKFILTER_DETACH:
	case BLKFILTER_CTL:
		ret = filter_ioctl(I_BDEV(file->f_mapping->host), cmd,
				   (void __user *)arg);
		break;
	default:
		ret = blkdev_ioctl(file, cmd, arg);
	}
	blksnap_hook_leave();
	return ret;
}

static void notrace filter_del_gendisk(struct gendisk *disk)
{
	bool entered = blksnap_hook_enter();

	del_gendisk(disk);
	if (entered) {
		filter_detach_disk(disk, true);
		blksnap_hook_leave();
	}
}

#ifdef BLKSNAP_HAVE_INVALIDATE_DISK
/* Loop detach, media change: the medium is gone. */
static void notrace filter_invalidate_disk(struct gendisk *disk)
{
	bool entered = blksnap_hook_enter();

	invalidate_disk(disk);
	if (entered) {
		filter_detach_disk(disk, true);
		blksnap_hook_leave();
	}
}
#endif

/*
 * Partition rescan: filters of partitions that were dropped go too.  With
 * @invalidate the medium itself changed, so every filter of the disk goes.
 */
static int notrace filter_bdev_disk_changed(struct BLKSNAP_PART_OWNER *owner,
					    bool invalidate)
{
	bool entered = blksnap_hook_enter();
	int ret;

	ret = bdev_disk_changed(owner, invalidate);
	if (entered) {
		filter_detach_disk(blksnap_part_owner_disk(owner), invalidate);
		blksnap_hook_leave();
	}
	return ret;
}

/* BLKPG_DEL_PARTITION: the partition's filter goes with it. */
static int notrace filter_bdev_del_partition(struct BLKSNAP_PART_OWNER *owner,
					     int partno)
{
	int (*bdev_del_partition)(struct BLKSNAP_PART_OWNER *owner, int partno);
	bool entered = blksnap_hook_enter();
	int ret;

	bdev_del_partition = (void *)filter_hooks[FILTER_HOOK_DEL_PARTITION].address;
	ret = bdev_del_partition(owner, partno);
	if (entered) {
		filter_detach_disk(blksnap_part_owner_disk(owner), false);
		blksnap_hook_leave();
	}
	return ret;
}

/*
 * A capacity of zero means the medium is gone (zram reset, nbd disconnect):
 * whatever comes next is new content.  Other changes are handled lazily by
 * blksnap_tracker_check_capacity().
 */
static bool notrace filter_set_capacity_and_notify(struct gendisk *disk,
						   sector_t size)
{
	bool entered = blksnap_hook_enter();
	bool ret;

	ret = set_capacity_and_notify(disk, size);
	if (entered) {
		if (!size)
			filter_detach_disk(disk, true);
		blksnap_hook_leave();
	}
	return ret;
}

#ifdef BLKSNAP_HAVE_BD_SET_NR_SECTORS
/*
 * Before 5.15 (no invalidate_disk()) a loop device's detach shows as its
 * block device's size set to zero: the medium is gone.
 */
static void notrace filter_bd_set_nr_sectors(struct block_device *bdev,
					     sector_t sectors)
{
	bool entered = blksnap_hook_enter();

	bd_set_nr_sectors(bdev, sectors);
	if (entered) {
		struct gendisk *disk = blksnap_bdev_disk(bdev);

		/*
		 * A disk's size is set on its whole device, which is closed
		 * and has no disk to name unless the module holds it.
		 */
		if (!sectors && disk)
			filter_detach_disk(disk, true);
		blksnap_hook_leave();
	}
}

#endif
#ifdef BLKSNAP_HAVE_REVALIDATE_DISK_SIZE
/*
 * Before 5.11 a zram reset sets the capacity to zero with set_capacity()
 * and then tells the block device through revalidate_disk_size(), which
 * writes the size itself: no other hook sees the medium go.
 */
static void notrace filter_revalidate_disk_size(struct gendisk *disk,
						bool verbose)
{
	bool entered = blksnap_hook_enter();

	revalidate_disk_size(disk, verbose);
	if (entered) {
		if (!get_capacity(disk))
			filter_detach_disk(disk, true);
		blksnap_hook_leave();
	}
}
#endif
static struct hook filter_hooks[FILTER_HOOK_COUNT] = {
	[FILTER_HOOK_SUBMIT_BIO] =
		HOOK("submit_bio_noacct", filter_submit_bio_noacct),
#ifdef BLKSNAP_HAVE_BDEV_BLKDEV_IOCTL
	[FILTER_HOOK_BLKDEV_IOCTL] =
		HOOK("block_ioctl", filter_blkdev_ioctl),
#else
	[FILTER_HOOK_BLKDEV_IOCTL] =
		HOOK("blkdev_ioctl", filter_blkdev_ioctl),
#endif
	[FILTER_HOOK_DEL_GENDISK] =
		HOOK("del_gendisk", filter_del_gendisk),
#ifdef BLKSNAP_HAVE_INVALIDATE_DISK
	[FILTER_HOOK_INVALIDATE_DISK] =
		HOOK("invalidate_disk", filter_invalidate_disk),
#endif
	[FILTER_HOOK_DISK_CHANGED] =
		HOOK("bdev_disk_changed", filter_bdev_disk_changed),
	[FILTER_HOOK_SET_CAPACITY] =
		HOOK("set_capacity_and_notify", filter_set_capacity_and_notify),
	[FILTER_HOOK_DEL_PARTITION] =
		HOOK("bdev_del_partition", filter_bdev_del_partition),
#ifdef BLKSNAP_HAVE_BD_SET_NR_SECTORS
	[FILTER_HOOK_SET_NR_SECTORS] =
		HOOK("bd_set_nr_sectors", filter_bd_set_nr_sectors),
#endif
#ifdef BLKSNAP_HAVE_REVALIDATE_DISK_SIZE
	[FILTER_HOOK_REVALIDATE_SIZE] =
		HOOK("revalidate_disk_size", filter_revalidate_disk_size),
#endif
};

int blksnap_filter_init(void)
{
	int ret;

	filter_io_pool = mempool_create_kmalloc_pool(FILTER_IO_POOL_MIN,
						     FILTER_IO_POOLED_SIZE);
	if (!filter_io_pool)
		return -ENOMEM;
	/*
	 * Writes of a tracked disk wait on it: it must make progress.  Unbound,
	 * said so: from 7.x a queue that names neither WQ_UNBOUND nor WQ_PERCPU
	 * gets a WARNING at creation, and its one work item needs no CPU.
	 */
	filter_wq = alloc_workqueue("blksnap-filter", WQ_UNBOUND | WQ_MEM_RECLAIM, 1);
	if (!filter_wq) {
		ret = -ENOMEM;
		goto fail_pool;
	}
	ret = blksnap_hook_install(filter_hooks, ARRAY_SIZE(filter_hooks));
	if (ret)
		goto fail_wq;
	return 0;

fail_wq:
	destroy_workqueue(filter_wq);
fail_pool:
	mempool_destroy(filter_io_pool);
	return ret;
}

/*
 * First step of module exit: once this returns no replacement runs, so no
 * attach, ioctl, bio or removal can reach the table or the snapshots.  An
 * attach that raced the unload finished before and is undone by
 * blksnap_filter_detach_all().
 */
void blksnap_filter_unhook(void)
{
	blksnap_hook_remove(filter_hooks, ARRAY_SIZE(filter_hooks));
	/* No write is deferred any more; run those that were. */
	destroy_workqueue(filter_wq);
}

/*
 * Last step of module exit, as upstream's (filters do not pin the module):
 * every filter goes, with its CBT map.  The snapshots are gone already.
 */
void blksnap_filter_detach_all(void)
{
	struct filter_set *set;
	unsigned long key;

	mutex_lock(&filter_lock);
	xa_for_each(&filter_table, key, set) {
		/* Each unlink replaces the set: look it up afresh. */
		while ((set = xa_load(&filter_table, key)))
			filter_unlink(set->trackers[0]);
	}
	mutex_unlock(&filter_lock);
	xa_destroy(&filter_table);
	/*
	 * No write is in flight on a filter any more; the last completions
	 * may still be on their way out of filter_io_end(), preempted in a
	 * process-context completion: wait for those before the text and
	 * the pool go.
	 */
	synchronize_rcu_tasks();
	mempool_destroy(filter_io_pool);
}
