// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write for one original device of a taken snapshot.
 *
 * The first write to a chunk after the take is held while the chunk's
 * original content is read into memory; then the write goes on, and a
 * worker stores the saved content in the difference storage.  Later
 * writes to that chunk pass straight through.  The snapshot image reads
 * saved chunks from memory or the difference storage and all others from
 * the original device.
 *
 * The original device comes first: once the difference storage fails or
 * fills up, the snapshot is marked corrupted, its image returns errors,
 * and writes to the original pass without any more copying.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-diff-area: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/blksnap.h>
#include "chunk.h"
#include "compat.h"
#include "diff_area.h"
#include "diff_storage.h"
#include "event_queue.h"
#include "snapshot.h"
#include "tracker.h"

/*
 * Writable at run time; a new value applies to the next take.  Each setter
 * refuses with EINVAL what the chunk arithmetic cannot honour, instead of
 * clamping it silently (a queue of 0 would hold every first write forever).
 */
#define CHUNK_SHIFT_HIGHEST		30
#define CHUNK_COUNT_SHIFT_HIGHEST	62
#define CHUNK_IN_QUEUE_HIGHEST		65536

static int chunk_shift_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, PAGE_SHIFT, CHUNK_SHIFT_HIGHEST);
}

static const struct kernel_param_ops chunk_shift_ops = {
	.set = chunk_shift_set,
	.get = param_get_uint,
};

static int chunk_count_shift_set(const char *val,
				 const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, CHUNK_COUNT_SHIFT_HIGHEST);
}

static const struct kernel_param_ops chunk_count_shift_ops = {
	.set = chunk_count_shift_set,
	.get = param_get_uint,
};

static int chunk_in_queue_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CHUNK_IN_QUEUE_HIGHEST);
}

static const struct kernel_param_ops chunk_in_queue_ops = {
	.set = chunk_in_queue_set,
	.get = param_get_uint,
};

static unsigned int chunk_minimum_shift = 18;
module_param_cb(chunk_minimum_shift, &chunk_shift_ops, &chunk_minimum_shift,
		0644);
MODULE_PARM_DESC(chunk_minimum_shift,
		 "log2 of the smallest chunk, bytes (12..30)");

static unsigned int chunk_maximum_count_shift = 40;
module_param_cb(chunk_maximum_count_shift, &chunk_count_shift_ops,
		&chunk_maximum_count_shift, 0644);
MODULE_PARM_DESC(chunk_maximum_count_shift,
		 "log2 of the most chunks a device is divided into (0..62)");

static unsigned int chunk_maximum_shift = 26;
module_param_cb(chunk_maximum_shift, &chunk_shift_ops, &chunk_maximum_shift,
		0644);
MODULE_PARM_DESC(chunk_maximum_shift,
		 "log2 of the largest chunk, bytes (12..30)");

static unsigned int chunk_maximum_in_queue = 16;
module_param_cb(chunk_maximum_in_queue, &chunk_in_queue_ops,
		&chunk_maximum_in_queue, 0644);
MODULE_PARM_DESC(chunk_maximum_in_queue,
		 "Saved chunks a device may hold in memory before storing (1..65536)");

/*
 * Start with the smallest chunk and double it while the device would have
 * too many chunks or a chunk would be smaller than the device's preferred
 * minimum I/O.
 */
static unsigned int diff_area_chunk_shift(sector_t capacity,
					  unsigned int io_min)
{
	unsigned int lo = clamp_t(unsigned int, READ_ONCE(chunk_minimum_shift),
				  PAGE_SHIFT, 30);
	unsigned int hi = clamp_t(unsigned int, READ_ONCE(chunk_maximum_shift),
				  lo, 30);
	unsigned int count_shift = min_t(unsigned int, 62,
					 READ_ONCE(chunk_maximum_count_shift));
	u64 bytes = (u64)capacity << SECTOR_SHIFT;
	unsigned int shift = lo;

	while (shift < hi && ((bytes >> shift) > (1ULL << count_shift) ||
			      (1ULL << shift) < io_min))
		shift++;
	return shift - SECTOR_SHIFT;
}

static void diff_area_release_work(struct work_struct *work)
{
	struct diff_area *da = container_of(work, struct diff_area, free_work);
	struct chunk *chunk;
	unsigned long nr;

	xa_for_each(&da->chunks, nr, chunk)
		blksnap_chunk_free(chunk);
	xa_destroy(&da->chunks);
	blksnap_bdev_unhold(da->orig_bdev);
	blksnap_tracker_put(da->tracker);
	blksnap_snapshot_put(da->snapshot);
	kfree(da);
}

/*
 * The last reference may go in the bio path of the original device, where
 * closing that very device must not happen.
 */
void blksnap_diff_area_free(struct kref *kref)
{
	struct diff_area *da = container_of(kref, struct diff_area, kref);

	queue_work(blksnap_snapshot_wq, &da->free_work);
}

/**
 * blksnap_diff_area_new() - prepare copy-on-write for a device about to be taken
 * @snapshot:	the owner; a reference is taken
 * @tracker:	the filter of the original device; a reference is taken
 *
 * The device is referenced, not opened: an open would keep a loop device
 * from being detached, and the snapshot must notice such a removal (the
 * filter goes away and corrupts it) rather than prevent it.
 *
 * Return: the diff area or an ERR_PTR.
 */
struct diff_area *blksnap_diff_area_new(struct snapshot *snapshot,
					struct tracker *tracker)
{
	struct block_device *bdev = tracker->bdev;
	struct diff_area *da;
	int i;

	da = kzalloc(sizeof(*da), GFP_KERNEL);
	if (!da)
		return ERR_PTR(-ENOMEM);

	blksnap_bdev_hold(bdev);
	kref_init(&da->kref);
	da->snapshot = snapshot;
	blksnap_snapshot_get(snapshot);
	da->orig_bdev = bdev;
	tracker_get(tracker);
	da->tracker = tracker;
	da->dev_id = bdev->bd_dev;
	da->capacity = bdev_nr_sectors(bdev);
	da->chunk_shift = diff_area_chunk_shift(da->capacity,
						bdev_io_min(bdev));
	da->chunk_count = DIV_ROUND_UP_SECTOR_T(da->capacity,
						1 << da->chunk_shift);
	xa_init(&da->chunks);
	for (i = 0; i < DIFF_AREA_LOCKS; i++)
		init_rwsem(&da->locks[i]);
	atomic_set(&da->in_queue, 0);
	init_waitqueue_head(&da->queue_wq);
	INIT_WORK(&da->free_work, diff_area_release_work);

	pr_debug("device %pg: %llu sectors in %lu chunks of %u sectors\n",
		 bdev,
		 (unsigned long long)da->capacity, da->chunk_count,
		 1U << da->chunk_shift);
	return da;
}

static struct diff_storage *diff_area_storage(struct diff_area *da)
{
	return da->snapshot->storage;
}

/**
 * blksnap_diff_area_set_corrupted() - give up the snapshot of this device
 * @da:		the diff area
 * @error:	negative errno, reported to user space
 *
 * Only the first error counts and queues the corrupted event.
 */
void blksnap_diff_area_set_corrupted(struct diff_area *da, int error)
{
	struct blksnap_event_corrupted data = {
		.dev_id_mj = MAJOR(da->dev_id),
		.dev_id_mn = MINOR(da->dev_id),
		.err_code = error,
	};

	if (cmpxchg(&da->error, 0, error))
		return;
	pr_err("snapshot of device %d:%d corrupted: %d\n",
	       MAJOR(da->dev_id), MINOR(da->dev_id), error);
	blksnap_event_gen(&da->snapshot->events, blksnap_event_code_corrupted,
			  &data, sizeof(data));
	wake_up_all(&da->queue_wq);
}

/**
 * blksnap_diff_area_stop() - the snapshot is being destroyed: copy nothing more
 * @da:		the diff area
 *
 * Work still queued or in flight then ends quickly instead of filling a
 * storage nobody will read.  Not a failure: no event is queued.
 */
void blksnap_diff_area_stop(struct diff_area *da)
{
	cmpxchg(&da->error, 0, -ESHUTDOWN);
	wake_up_all(&da->queue_wq);
}

/**
 * blksnap_diff_area_wait_stored() - wait until no saved chunk waits for the storage
 * @da:		a stopped diff area
 *
 * Once stopped, every queued store ends at once and frees its chunk's
 * pages; after this only the chunk descriptors remain, until the last
 * reference (an image still open) goes.
 */
void blksnap_diff_area_wait_stored(struct diff_area *da)
{
	wait_event(da->queue_wq, !atomic_read(&da->in_queue));
}

static bool diff_area_broken(struct diff_area *da)
{
	return READ_ONCE(da->error) ||
	       diff_storage_error(diff_area_storage(da));
}

/* Like diff_area_broken(), and makes a storage failure this device's. */
static bool diff_area_failed(struct diff_area *da)
{
	int error;

	if (likely(!diff_area_broken(da)))
		return false;
	error = diff_storage_error(diff_area_storage(da));
	if (error)
		blksnap_diff_area_set_corrupted(da, error);
	return true;
}

int blksnap_diff_area_error(struct diff_area *da)
{
	diff_area_failed(da);
	return READ_ONCE(da->error);
}

static struct rw_semaphore *diff_area_lock(struct diff_area *da,
					   unsigned long nr)
{
	return &da->locks[nr % DIFF_AREA_LOCKS];
}

static unsigned int diff_area_chunk_sectors(struct diff_area *da,
					    unsigned long nr)
{
	sector_t start = (sector_t)nr << da->chunk_shift;

	return min_t(sector_t, 1U << da->chunk_shift, da->capacity - start);
}

/**
 * blksnap_diff_area_worker_enter() - prepare a worker to write the storage
 *
 * Stores (and image writes) go through the page cache of the storage file
 * and wait for its writeback.  Two traps, the ones the loop driver avoids
 * for its backing file the same way:
 *  - reclaim from inside the store must not issue I/O (PF_MEMALLOC_NOIO):
 *    it could be a write to an original device that waits for a store
 *    slot, which this very worker is to free;
 *  - dirty-page throttling (balance_dirty_pages) must look at this task's
 *    own dirty pages only (PF_LOCAL_THROTTLE): the writes it would wait
 *    for may be writes to an original device held by copy-on-write, which
 *    wait for store slots, which wait for this worker.  With the flag the
 *    worker is throttled by the storage's own writeback, which does not
 *    depend on the originals.
 *
 * Return: the flags to hand to blksnap_diff_area_worker_leave().
 */
unsigned int blksnap_diff_area_worker_enter(void)
{
	unsigned int flags = current->flags & PF_LOCAL_THROTTLE;

	current->flags |= PF_LOCAL_THROTTLE;
	return flags | memalloc_noio_save();
}

void blksnap_diff_area_worker_leave(unsigned int flags)
{
	memalloc_noio_restore(flags & PF_MEMALLOC_NOIO);
	current->flags = (current->flags & ~PF_LOCAL_THROTTLE) |
			 (flags & PF_LOCAL_THROTTLE);
}

static void diff_area_store_work(struct work_struct *work)
{
	struct chunk *chunk = container_of(work, struct chunk, store_work);
	struct diff_area *da = chunk->diff_area;
	struct diff_storage *ds = diff_area_storage(da);
	unsigned int flags = blksnap_diff_area_worker_enter();
	sector_t offset;
	int ret;

	mutex_lock(&chunk->lock);
	ret = diff_area_failed(da) ? -EIO :
	      blksnap_diff_storage_alloc(ds, chunk->sector_count, &offset);
	if (!ret) {
		struct iov_iter iter;

		blksnap_chunk_iter(chunk, &iter);
		ret = blksnap_diff_storage_rw(ds, offset, &iter, true);
		if (ret && ret != -ESHUTDOWN) {
			pr_err("writing to the difference storage failed: %d\n",
			       ret);
			diff_storage_fail(ds, ret);
		}
	}
	if (ret) {
		chunk->failed = true;
		diff_area_failed(da);
	} else {
		chunk->store_offset = offset;
		chunk->stored = true;
	}
	blksnap_chunk_release_pages(chunk);
	mutex_unlock(&chunk->lock);

	atomic_dec(&da->in_queue);
	wake_up_all(&da->queue_wq);
	blksnap_diff_area_worker_leave(flags);
	diff_area_put(da);
}

/*
 * Save the original content of chunk @nr unless someone did already.
 * Failures corrupt the snapshot and are not passed on: the write that
 * triggered the copy must go on regardless.
 */
static void diff_area_copy(struct diff_area *da, unsigned long nr)
{
	struct rw_semaphore *lock = diff_area_lock(da, nr);
	struct chunk *chunk;
	int ret;

	/*
	 * Wait outside the lock, so that image reads of other chunks are
	 * not held up by a full queue.
	 */
	wait_event(da->queue_wq, atomic_read(&da->in_queue) <
				 READ_ONCE(chunk_maximum_in_queue) ||
				 diff_area_broken(da));

	down_write(lock);
	if (xa_load(&da->chunks, nr) || diff_area_failed(da))
		goto out;

	chunk = blksnap_chunk_alloc(da, nr, diff_area_chunk_sectors(da, nr));
	if (!chunk) {
		blksnap_diff_area_set_corrupted(da, -ENOMEM);
		goto out;
	}
	ret = blksnap_chunk_load(chunk, da->orig_bdev, (sector_t)nr << da->chunk_shift);
	if (!ret)
		ret = xa_insert(&da->chunks, nr, chunk, GFP_NOIO);
	if (ret) {
		blksnap_chunk_free(chunk);
		blksnap_diff_area_set_corrupted(da, ret);
		goto out;
	}
	atomic_inc(&da->nr_chunks);
	atomic_inc(&da->in_queue);
	INIT_WORK(&chunk->store_work, diff_area_store_work);
	diff_area_get(da);
	queue_work(blksnap_snapshot_wq, &chunk->store_work);
out:
	up_write(lock);
}

/**
 * blksnap_diff_area_cow_bio() - save what a bio to the original is about to change
 * @da:		the diff area of the bio's device
 * @bio:	a bio that changes data, on its way to the original device
 * @sector:	first sector to save, relative to the tracked device
 * @count:	sectors to save
 *
 * Sleeps while chunks are read, which is how the write is held.  A bio
 * that may not wait (REQ_NOWAIT) and needs a copy is ended with
 * BLK_STS_AGAIN instead.
 *
 * Return: true if the bio was ended here and must not be submitted, false
 * if the caller submits it as usual.
 */
bool blksnap_diff_area_cow_bio(struct diff_area *da, struct bio *bio, sector_t sector,
			       sector_t count)
{
	unsigned long nr, last;

	/* Holds the write while chunks are read: never in atomic context. */
	might_sleep();
	if (!count || sector >= da->capacity)
		return false;
	count = min_t(sector_t, count, da->capacity - sector);
	last = (sector + count - 1) >> da->chunk_shift;

	for (nr = sector >> da->chunk_shift; nr <= last; nr++) {
		if (diff_area_failed(da))
			break;
		if (xa_load(&da->chunks, nr))
			continue;
		if (bio->bi_opf & REQ_NOWAIT) {
			bio_wouldblock_error(bio);
			return true;
		}
		diff_area_copy(da, nr);
	}
	return false;
}

static int diff_area_image_piece(struct diff_area *da, unsigned long nr,
				 unsigned int offset, struct iov_iter *iter,
				 bool write)
{
	struct rw_semaphore *lock = diff_area_lock(da, nr);
	struct chunk *chunk;
	int ret;

	if (diff_area_failed(da))
		return -EIO;

	chunk = xa_load(&da->chunks, nr);
	if (!chunk && write) {
		/* The image's own changes go over a saved copy. */
		diff_area_copy(da, nr);
		chunk = xa_load(&da->chunks, nr);
		if (!chunk)
			return -EIO;
	}
	if (!chunk) {
		down_read(lock);
		chunk = xa_load(&da->chunks, nr);
		if (!chunk) {
			ret = blksnap_chunk_read_bdev(da->orig_bdev,
						      ((sector_t)nr << da->chunk_shift) +
						      offset, iter);
			up_read(lock);
			return ret;
		}
		up_read(lock);
	}

	mutex_lock(&chunk->lock);
	if (chunk->failed || diff_area_failed(da)) {
		ret = -EIO;
	} else if (chunk->bvecs) {
		blksnap_chunk_copy(chunk, offset << SECTOR_SHIFT, iter, write);
		ret = 0;
	} else {
		ret = blksnap_diff_storage_rw(diff_area_storage(da),
					      chunk->store_offset + offset, iter, write);
		if (ret)
			blksnap_diff_area_set_corrupted(da, ret);
	}
	mutex_unlock(&chunk->lock);
	return ret;
}

/**
 * blksnap_diff_area_image_rw() - I/O of the snapshot image
 * @da:		the diff area behind the image
 * @sector:	first sector
 * @iter:	a bvec iterator with the data; consumed on success
 * @write:	direction
 *
 * Return: 0, or a negative errno: -EIO once the snapshot is corrupted.
 */
int blksnap_diff_area_image_rw(struct diff_area *da, sector_t sector,
			       struct iov_iter *iter, bool write)
{
	unsigned int mask = (1U << da->chunk_shift) - 1;

	/*
	 * Marked before the data moves, so that a backup never misses a block
	 * the image changed, even one whose write fails half-way.
	 */
	if (write && sector < da->capacity)
		blksnap_cbt_map_mark_both(&da->tracker->cbt, sector,
					  min_t(sector_t, iov_iter_count(iter) >> SECTOR_SHIFT,
						da->capacity - sector));
	while (iov_iter_count(iter)) {
		unsigned long nr = sector >> da->chunk_shift;
		unsigned int offset = sector & mask;
		size_t len = min_t(size_t, iov_iter_count(iter),
				   (size_t)((1U << da->chunk_shift) - offset)
				   << SECTOR_SHIFT);
		struct iov_iter piece = *iter;
		int ret;

		if (sector >= da->capacity)
			return -EIO;
		iov_iter_truncate(&piece, len);
		ret = diff_area_image_piece(da, nr, offset, &piece, write);
		if (ret)
			return ret;
		iov_iter_advance(iter, len);
		sector += len >> SECTOR_SHIFT;
	}
	return 0;
}

/* Statistics for humans and the benchmark: memory grows with changes. */
void blksnap_diff_area_show(struct diff_area *da, struct seq_file *m)
{
	unsigned int nr = atomic_read(&da->nr_chunks);

	seq_printf(m, "  device %d:%d chunk_sectors %u chunks %lu changed %u chunk_state_bytes %zu error %d\n",
		   MAJOR(da->dev_id), MINOR(da->dev_id), 1U << da->chunk_shift,
		   da->chunk_count, nr, nr * sizeof(struct chunk),
		   READ_ONCE(da->error));
}
