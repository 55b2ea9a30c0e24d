// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write for one original device of a taken snapshot.
 *
 * The first write to a chunk after the take is held while the chunk's
 * original content is read into memory; the submitter does not wait for
 * that read: it starts it (one read for every run of consecutive new
 * chunks of the write), puts the write on the held list and returns.  The
 * read's completion lets the write go on, and a worker then starts the
 * asynchronous store of the saved content in the difference storage; the
 * store's completion frees the pages.  Later writes to that chunk
 * pass straight through.  The snapshot image reads saved chunks from
 * memory or the difference storage and all others from the original
 * device.  The chunk states and the ordering rules are in module/README.md
 * ("Copy-on-write").
 *
 * The original device comes first: once the difference storage fails or
 * fills up, the snapshot is marked corrupted, its image returns errors,
 * and writes to the original pass without any more copying.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-diff-area: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/mempool.h>
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
#include "filter.h"
#include "snapshot.h"
#include "tracker.h"

/*
 * Writable at run time; a new value applies to the next take.  Each setter
 * refuses with EINVAL what the chunk arithmetic cannot honour, instead of
 * clamping it silently.  The bound on memory is chunk_maximum_buffer_mib
 * (chunk.c).
 */
#define CHUNK_SHIFT_HIGHEST		30
#define CHUNK_COUNT_SHIFT_HIGHEST	62

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

	/* Stored or lost, every chunk's pages went back to the pool already. */
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
	int ret;

	da = kzalloc(sizeof(*da), GFP_KERNEL);
	if (!da)
		return ERR_PTR(-ENOMEM);
	ret = blksnap_bdev_hold(bdev);
	if (ret) {
		kfree(da);
		return ERR_PTR(ret);
	}
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
	spin_lock_init(&da->held_lock);
	INIT_LIST_HEAD(&da->held);
	atomic_set(&da->in_memory, 0);
	init_waitqueue_head(&da->wq);
	INIT_WORK(&da->free_work, diff_area_release_work);

	pr_debug("device " BLKSNAP_PG ": %llu sectors in %lu chunks of %u sectors\n",
		 BLKSNAP_PG_ARG(bdev),
		 (unsigned long long)da->capacity, da->chunk_count,
		 1U << da->chunk_shift);
	return da;
}

static struct diff_storage *diff_area_storage(struct diff_area *da)
{
	return da->snapshot->storage;
}

static struct chunk_pool *diff_area_pool(struct diff_area *da)
{
	return &da->snapshot->pool;
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
	wake_up_all(&diff_area_pool(da)->wq);
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
	wake_up_all(&diff_area_pool(da)->wq);
}

/**
 * blksnap_diff_area_wait_stored() - wait until no chunk is in memory any more
 * @da:		a stopped diff area
 *
 * Loads in flight complete (and release the writes they hold); once
 * stopped, every queued store ends at once and frees its chunk's pages.
 * After this only the chunk descriptors remain, until the last reference
 * (an image still open) goes.
 */
void blksnap_diff_area_wait_stored(struct diff_area *da)
{
	wait_event(da->wq, !atomic_read(&da->in_memory));
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

static unsigned int diff_area_chunk_sectors(struct diff_area *da,
					    unsigned long nr)
{
	sector_t start = (sector_t)nr << da->chunk_shift;

	return min_t(sector_t, 1U << da->chunk_shift, da->capacity - start);
}

/**
 * blksnap_diff_area_worker_enter() - prepare a worker to write the storage
 *
 * Stores to a file without direct I/O (and image writes) go through the
 * page cache of the storage file and wait for its writeback; every store
 * worker may allocate and grow the storage.  Two traps, the ones the loop driver avoids
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

/* One more event of a stage that began at @start_ns. */
static void diff_area_profile(struct diff_area_stage *stage, u64 start_ns)
{
	atomic64_add(ktime_get_ns() - start_ns, &stage->ns);
	atomic_inc(&stage->count);
}

static void diff_area_stage_show(struct seq_file *m, const char *name,
				 struct diff_area_stage *stage)
{
	unsigned int n = atomic_read(&stage->count);

	seq_printf(m, " %s %u %s_us %llu", name, n, name,
		   n ? div_u64(atomic64_read(&stage->ns), (u64)n * NSEC_PER_USEC) : 0ULL);
}

/* The chunk's content left memory: stored, or lost. */
static void diff_area_chunk_unload(struct diff_area *da, struct chunk *chunk)
{
	LIST_HEAD(pages);

	blksnap_chunk_release_pages(chunk, &pages);
	blksnap_chunk_pool_put(diff_area_pool(da), &da->pool_chunks,
			       chunk->nr_pages, &pages);
	atomic_dec(&da->in_memory);
	wake_up_all(&da->wq);
}

/**
 * struct diff_area_load - one read of the original for a run of new chunks
 * @da:		the diff area, referenced
 * @first:	the first chunk of the run
 * @count:	consecutive chunks, all LOADING and created by this load
 * @pending:	bios in flight, plus one while they are being submitted
 * @error:	the first failed bio's errno
 * @start_ns:	when the bios were submitted, for the profile
 * @work:	submits the bios (for a writer that may not wait), then
 *		finishes the load once they completed, then stores the
 *		run if it loaded
 */
struct diff_area_load {
	struct diff_area *da;
	unsigned long first;
	unsigned long count;
	atomic_t pending;
	int error;
	u64 start_ns;
	struct work_struct work;
};

/*
 * The store of @chunk ended (@chunk->store_error says how): the content is
 * in the storage or lost.  @io: the error is the storage's I/O's, which
 * fails the storage; any other was recorded where it arose (a stopped or
 * corrupted snapshot, a full storage).  Process context, under no lock;
 * drops the reference on the diff area the store took.
 */
static void diff_area_store_end(struct chunk *chunk, bool io)
{
	struct diff_area *da = chunk->diff_area;
	int ret = chunk->store_error;

	if (io && ret && ret != -ESHUTDOWN) {
		pr_err("writing to the difference storage failed: %d\n", ret);
		diff_storage_fail(diff_area_storage(da), ret);
	}
	/* Image I/O copying from the pages holds the lock: they stay till then. */
	mutex_lock(&chunk->lock);
	chunk_set_state(chunk, ret ? CHUNK_FAILED : CHUNK_STORED);
	diff_area_chunk_unload(da, chunk);
	mutex_unlock(&chunk->lock);
	if (ret)
		diff_area_failed(da);
	diff_area_put(da);
}

static void diff_area_store_end_work(struct work_struct *work)
{
	diff_area_store_end(container_of(work, struct chunk, store_work), true);
}

/*
 * Completion of the storage's write, perhaps in interrupt context: the
 * pages are freed under chunk->lock, a mutex, so the rest runs in a worker.
 */
static void diff_area_store_end_io(void *private, int error)
{
	struct chunk *chunk = private;

	chunk->store_error = error;
	INIT_WORK(&chunk->store_work, diff_area_store_end_work);
	queue_work(blksnap_snapshot_wq, &chunk->store_work);
}

/*
 * Sectors the chunk takes in the storage: slots start on the storage's
 * logical block, so each is rounded up to it.
 */
static sector_t diff_area_slot_sectors(struct diff_area *da, struct chunk *chunk)
{
	return round_up((sector_t)chunk->sector_count,
			diff_area_storage(da)->logical_block);
}

/*
 * Writes one STORING chunk to its slot, asynchronously, straight from its
 * pages; the end comes from diff_area_store_end_io(), or from here if it
 * could not be started.  Only the last chunk of a device can end inside a
 * logical block of the storage: its last page is padded with zeros up to
 * the slot's end, the length the storage's bios need.  Where even that
 * does not fit in the page (a logical block larger than a page), the
 * chunk is written synchronously, through the VFS for a block device.
 */
static void diff_area_store_submit(struct diff_area *da, struct chunk *chunk)
{
	struct diff_storage *ds = diff_area_storage(da);
	struct bio_vec *last = &chunk->bvecs[chunk->nr_pages - 1];
	size_t slot = diff_area_slot_sectors(da, chunk) << SECTOR_SHIFT;
	size_t head = (size_t)(chunk->nr_pages - 1) << PAGE_SHIFT;
	int ret;

	diff_area_get(da);
	if (slot - head <= PAGE_SIZE) {
		if (slot - head > last->bv_len) {
			memzero_page(last->bv_page, last->bv_len,
				     slot - head - last->bv_len);
			last->bv_len = slot - head;
		}
		ret = blksnap_diff_storage_submit(ds, chunk->store_offset,
						  chunk->bvecs, chunk->nr_pages,
						  REQ_OP_WRITE,
						  diff_area_store_end_io, chunk);
		if (!ret)
			return;
	} else {
		struct iov_iter iter;

		blksnap_chunk_iter(chunk, &iter);
		ret = blksnap_diff_storage_rw(ds, chunk->store_offset, &iter,
					      true);
	}
	chunk->store_error = ret;
	diff_area_store_end(chunk, true);
}

/*
 * Stores the run of chunks a load brought in (@load, reused: it holds a
 * reference on the diff area): one slot of the storage for the whole run,
 * so that the chunks lie one after the other there as on the original,
 * and their writes submitted under one plug, so that the block layer
 * merges them into as few requests as it can.  Does not wait for them.
 * Allocation may grow a file storage: it runs here, in a worker, never in
 * the path of a write.
 */
static void diff_area_store_run(struct work_struct *work)
{
	struct diff_area_load *load = container_of(work, struct diff_area_load,
						   work);
	struct diff_area *da = load->da;
	unsigned int flags = blksnap_diff_area_worker_enter();
	u64 start_ns = ktime_get_ns();
	sector_t offset = 0, sectors = 0;
	struct blk_plug plug;
	unsigned long nr;
	int ret;

	for (nr = load->first; nr < load->first + load->count; nr++)
		sectors += diff_area_slot_sectors(da, xa_load(&da->chunks, nr));
	ret = diff_area_failed(da) ? -EIO :
	      blksnap_diff_storage_alloc(diff_area_storage(da), sectors, &offset);

	blk_start_plug(&plug);
	for (nr = load->first; nr < load->first + load->count; nr++) {
		struct chunk *chunk = xa_load(&da->chunks, nr);

		/* An image write in the pages finishes first. */
		mutex_lock(&chunk->lock);
		chunk_set_state(chunk, CHUNK_STORING);
		mutex_unlock(&chunk->lock);
		if (ret) {
			diff_area_get(da);
			chunk->store_error = ret;
			diff_area_store_end(chunk, false);
			continue;
		}
		chunk->store_offset = offset;
		offset += diff_area_slot_sectors(da, chunk);
		diff_area_store_submit(da, chunk);
	}
	blk_finish_plug(&plug);
	diff_area_profile(&da->prof_store, start_ns);

	blksnap_diff_area_worker_leave(flags);
	diff_area_put(da);
	kfree(load);
}

/*
 * A write held by copy-on-write: it goes on once no chunk from @first to
 * @last is LOADING.  Chunks only ever leave LOADING, so @first moves up
 * as they do.
 */
struct diff_area_hold {
	struct list_head link;
	struct bio *bio;
	unsigned long first;
	unsigned long last;
	u64 start_ns;
};

/* Holds of blocking writers always come, from here if memory is short. */
#define DIFF_AREA_HOLDS_RESERVED	64
static mempool_t *diff_area_hold_pool;

int blksnap_diff_area_init(void)
{
	diff_area_hold_pool = mempool_create_kmalloc_pool(DIFF_AREA_HOLDS_RESERVED,
							  sizeof(struct diff_area_hold));
	return diff_area_hold_pool ? 0 : -ENOMEM;
}

void blksnap_diff_area_done(void)
{
	mempool_destroy(diff_area_hold_pool);
}

/* Under @da->held_lock, or without it to learn that nothing is LOADING. */
static bool diff_area_hold_waits(struct diff_area *da,
				 struct diff_area_hold *hold)
{
	for (; hold->first <= hold->last; hold->first++) {
		struct chunk *chunk = xa_load(&da->chunks, hold->first);

		if (chunk && chunk_state(chunk) == CHUNK_LOADING)
			return true;
	}
	return false;
}

/*
 * Runs in process context (the load's work item): it submits the writes
 * it releases, which may sleep.
 */
static void diff_area_load_finish(struct diff_area_load *load)
{
	struct diff_area *da = load->da;
	enum chunk_state state = load->error ? CHUNK_FAILED : CHUNK_LOADED;
	struct diff_area_hold *hold, *next;
	LIST_HEAD(go);
	unsigned long nr;

	spin_lock(&da->held_lock);
	for (nr = load->first; nr < load->first + load->count; nr++)
		chunk_set_state(xa_load(&da->chunks, nr), state);
	list_for_each_entry_safe(hold, next, &da->held, link)
		if (!diff_area_hold_waits(da, hold))
			list_move_tail(&hold->link, &go);
	spin_unlock(&da->held_lock);
	/* Image I/O waiting for the content. */
	wake_up_all(&da->wq);

	diff_area_profile(&da->prof_load, load->start_ns);
	/* After the read, not after the store: the original is in memory. */
	list_for_each_entry_safe(hold, next, &go, link) {
		diff_area_profile(&da->prof_held, hold->start_ns);
		blksnap_filter_release(hold->bio);
		mempool_free(hold, diff_area_hold_pool);
	}

	if (load->error) {
		pr_err("reading the original of device %d:%d failed: %d\n",
		       MAJOR(da->dev_id), MINOR(da->dev_id), load->error);
		blksnap_diff_area_set_corrupted(da, load->error);
	}
	if (state == CHUNK_LOADED) {
		/* The run and its reference go on to the store. */
		INIT_WORK(&load->work, diff_area_store_run);
		queue_work(blksnap_snapshot_wq, &load->work);
		return;
	}
	for (nr = load->first; nr < load->first + load->count; nr++)
		diff_area_chunk_unload(da, xa_load(&da->chunks, nr));
	diff_area_put(da);
	kfree(load);
}

static void diff_area_load_finish_work(struct work_struct *work)
{
	diff_area_load_finish(container_of(work, struct diff_area_load, work));
}

static void diff_area_load_put(struct diff_area_load *load)
{
	if (atomic_dec_and_test(&load->pending)) {
		INIT_WORK(&load->work, diff_area_load_finish_work);
		queue_work(blksnap_cow_wq, &load->work);
	}
}

/* Completion context: the rest waits for process context. */
static void diff_area_load_end_io(struct bio *bio)
{
	struct diff_area_load *load = bio->bi_private;

	if (bio->bi_status)
		cmpxchg(&load->error, 0, blk_status_to_errno(bio->bi_status));
	bio_put(bio);
	diff_area_load_put(load);
}

/*
 * Reads the whole run, as few bios as the pages allow, each submitted from
 * module text (so not filtered).  The bios come from a mempool: this may
 * wait for one but does not fail.
 */
static void diff_area_load_submit(struct diff_area_load *load)
{
	struct diff_area *da = load->da;
	sector_t sector = (sector_t)load->first << da->chunk_shift;
	unsigned long nr, pages = 0;
	struct bio *bio = NULL;

	for (nr = load->first; nr < load->first + load->count; nr++) {
		struct chunk *chunk = xa_load(&da->chunks, nr);

		pages += chunk->nr_pages;
	}
	load->start_ns = ktime_get_ns();
	atomic_set(&load->pending, 1);
	for (nr = load->first; nr < load->first + load->count; nr++) {
		struct chunk *chunk = xa_load(&da->chunks, nr);
		unsigned int i;

		for (i = 0; i < chunk->nr_pages; i++, pages--) {
			struct bio_vec *bv = &chunk->bvecs[i];

			if (bio && bio->bi_vcnt == bio->bi_max_vecs) {
				sector = bio_end_sector(bio);
				submit_bio_noacct(bio);
				bio = NULL;
			}
			if (!bio) {
				bio = blksnap_chunk_bio_alloc(da->orig_bdev,
							      min_t(unsigned long, pages,
								    BIO_MAX_VECS),
							      REQ_OP_READ, GFP_NOIO);
				bio->bi_iter.bi_sector = sector;
				bio->bi_end_io = diff_area_load_end_io;
				bio->bi_private = load;
				atomic_inc(&load->pending);
			}
			__bio_add_page(bio, bv->bv_page, bv->bv_len, 0);
		}
	}
	if (bio)
		submit_bio_noacct(bio);
	diff_area_profile(&da->prof_submit, load->start_ns);
	diff_area_load_put(load);
}

static void diff_area_load_submit_work(struct work_struct *work)
{
	diff_area_load_submit(container_of(work, struct diff_area_load, work));
}

/*
 * Starts the read of the run gathered in *@loadp, if any.  A writer that
 * may not wait hands the submission to a worker, since a submission may
 * wait for a request.
 */
static void diff_area_load_start(struct diff_area_load **loadp, bool nowait)
{
	struct diff_area_load *load = *loadp;

	if (!load)
		return;
	*loadp = NULL;
	if (!load->count) {
		diff_area_put(load->da);
		kfree(load);
	} else if (nowait) {
		INIT_WORK(&load->work, diff_area_load_submit_work);
		queue_work(blksnap_cow_wq, &load->work);
	} else {
		diff_area_load_submit(load);
	}
}

/*
 * Creates chunk @nr in state LOADING, as part of the run in *@loadp (a new
 * run if it does not follow on).  Another writer may have created it
 * first: that is no error.
 *
 * Return: 1 if created, 0 if not (another's), -EAGAIN if a writer that
 * may not wait would have to, or the errno that corrupts the snapshot
 * (nothing more is copied then, and the write goes on).
 */
static int diff_area_new_chunk(struct diff_area *da, unsigned long nr,
			       struct diff_area_load **loadp, bool nowait)
{
	gfp_t gfp = nowait ? GFP_NOWAIT : GFP_NOIO;
	unsigned int sectors = diff_area_chunk_sectors(da, nr);
	unsigned long pages = DIV_ROUND_UP(sectors, PAGE_SECTORS);
	struct chunk_pool *pool = diff_area_pool(da);
	struct diff_area_load *load = *loadp;
	struct chunk *chunk;
	LIST_HEAD(spare);
	u64 start_ns;
	bool got;
	int ret;

	if (load && load->first + load->count != nr)
		diff_area_load_start(loadp, nowait);
	if (!blksnap_chunk_pool_get(pool, &da->pool_chunks, pages, &spare)) {
		if (nowait)
			return -EAGAIN;
		/*
		 * What we gathered holds pool pages and goes back only once
		 * read and stored: start it before waiting for the pool.
		 */
		diff_area_load_start(loadp, nowait);
		start_ns = ktime_get_ns();
		wait_event(pool->wq,
			   (got = blksnap_chunk_pool_get(pool, &da->pool_chunks,
							 pages, &spare)) ||
			   diff_area_broken(da));
		diff_area_profile(&da->prof_pool, start_ns);
		if (!got)
			return -EIO;
	}
	load = *loadp;
	if (!load) {
		load = kmalloc(sizeof(*load), gfp);
		if (!load) {
			ret = -ENOMEM;
			goto fail_pool;
		}
		load->da = da;
		load->first = nr;
		load->count = 0;
		load->error = 0;
		diff_area_get(da);
		*loadp = load;
	}
	start_ns = ktime_get_ns();
	chunk = blksnap_chunk_alloc(da, nr, sectors, &spare, gfp);
	if (!chunk) {
		ret = -ENOMEM;
		goto fail_pool;
	}
	diff_area_profile(&da->prof_alloc, start_ns);
	ret = xa_insert(&da->chunks, nr, chunk, gfp);
	if (ret) {
		blksnap_chunk_release_pages(chunk, &spare);
		blksnap_chunk_free(chunk);
		blksnap_chunk_pool_put(pool, &da->pool_chunks, pages, &spare);
		if (ret != -EBUSY)
			return nowait ? -EAGAIN : ret;
		/* Someone else's: its load holds us, the run ends here. */
		diff_area_load_start(loadp, nowait);
		return 0;
	}
	load->count++;
	atomic_inc(&da->in_memory);
	atomic_inc(&da->nr_chunks);
	return 1;

fail_pool:
	blksnap_chunk_pool_put(pool, &da->pool_chunks, pages, &spare);
	return nowait ? -EAGAIN : ret;
}

/*
 * Creates every missing chunk from @first to @last and starts their
 * reads.  Stops at the first failure, which it returns.  The profile's
 * cow stage runs from the first chunk this creates to the last read
 * started.
 */
static int diff_area_load_range(struct diff_area *da, unsigned long first,
				unsigned long last, bool nowait)
{
	struct diff_area_load *load = NULL;
	unsigned int created = 0;
	u64 start_ns = 0;
	unsigned long nr;
	int ret = 0;

	for (nr = first; nr <= last; nr++) {
		if (diff_area_failed(da))
			break;
		if (xa_load(&da->chunks, nr))
			continue;
		if (!start_ns)
			start_ns = ktime_get_ns();
		ret = diff_area_new_chunk(da, nr, &load, nowait);
		if (ret < 0)
			break;
		created += ret;
	}
	diff_area_load_start(&load, nowait);
	if (created)
		diff_area_profile(&da->prof_cow, start_ns);
	return ret < 0 ? ret : 0;
}

/**
 * blksnap_diff_area_cow_bio() - save what a bio to the original is about to change
 * @da:		the diff area of the bio's device
 * @bio:	a bio that changes data, on its way to the original device
 * @sector:	first sector to save, relative to the tracked device
 * @count:	sectors to save
 *
 * Never waits for I/O: it starts the reads of the chunks not yet saved and
 * holds @bio (blksnap_filter_hold()) until no chunk it touches is LOADING,
 * whoever started that load.  A blocking writer may wait for room in the
 * snapshot's pool; a REQ_NOWAIT one is refused (BLK_STS_AGAIN) instead,
 * and when memory cannot be had without sleeping.
 */
void blksnap_diff_area_cow_bio(struct diff_area *da, struct bio *bio, sector_t sector,
			       sector_t count)
{
	bool nowait = bio->bi_opf & REQ_NOWAIT;
	struct diff_area_hold probe, *hold;
	int ret;

	might_sleep();
	if (!count || sector >= da->capacity)
		return;
	count = min_t(sector_t, count, da->capacity - sector);
	probe.first = sector >> da->chunk_shift;
	probe.last = (sector + count - 1) >> da->chunk_shift;

	ret = diff_area_load_range(da, probe.first, probe.last, nowait);
	if (ret == -EAGAIN) {
		blksnap_filter_refuse(bio);
		return;
	}
	if (ret)
		blksnap_diff_area_set_corrupted(da, ret);

	/* Chunks never go back to LOADING: no hold needed stays so. */
	if (!diff_area_hold_waits(da, &probe))
		return;
	hold = mempool_alloc(diff_area_hold_pool, nowait ? GFP_NOWAIT : GFP_NOIO);
	if (!hold) {
		blksnap_filter_refuse(bio);
		return;
	}
	*hold = probe;
	hold->bio = bio;
	hold->start_ns = ktime_get_ns();
	spin_lock(&da->held_lock);
	if (diff_area_hold_waits(da, hold)) {
		blksnap_filter_hold(bio);
		list_add_tail(&hold->link, &da->held);
		hold = NULL;
	}
	spin_unlock(&da->held_lock);
	if (hold)
		mempool_free(hold, diff_area_hold_pool);
}

/*
 * The content of chunk @nr in memory or stored, for the image: loads it
 * if nobody did and waits for the load.  NULL once the snapshot is
 * corrupted.
 */
static struct chunk *diff_area_load_wait(struct diff_area *da,
					 unsigned long nr)
{
	struct chunk *chunk = xa_load(&da->chunks, nr);

	if (!chunk) {
		int ret = diff_area_load_range(da, nr, nr, false);

		if (ret)
			blksnap_diff_area_set_corrupted(da, ret);
		chunk = xa_load(&da->chunks, nr);
		if (!chunk)
			return NULL;
	}
	wait_event(da->wq, chunk_state(chunk) != CHUNK_LOADING);
	return chunk;
}

/**
 * blksnap_diff_area_image_original() - may the image read chunk @nr from the original?
 * @da:		the diff area
 * @nr:		the chunk
 * @read_done:	asked again once that read has completed
 *
 * Before the read: yes while the chunk is absent or LOADING and the
 * snapshot is whole.  After it: yes if that is still so (see
 * diff_area_image_piece()); otherwise the piece must be served again, from
 * the saved copy, or fail.  Any context.
 */
bool blksnap_diff_area_image_original(struct diff_area *da, unsigned long nr,
				      bool read_done)
{
	struct chunk *chunk = xa_load(&da->chunks, nr);

	/*
	 * Once the snapshot is broken or stopped writes pass uncopied: after
	 * the read too, a worker then fails the piece.
	 */
	if (diff_area_broken(da))
		return false;
	if (!chunk || chunk_state(chunk) == CHUNK_LOADING)
		return true;
	if (read_done)
		atomic_inc(&da->image_rereads);
	return false;
}

/**
 * blksnap_diff_area_image_stored() - may the image read from the storage directly?
 * @da:		the diff area
 * @nr:		the chunk
 * @offset:	first sector of the read inside the chunk
 * @sectors:	its length, inside the chunk
 * @bdev:	out: where the read goes
 * @sector:	out: its first sector there
 *
 * Yes if the chunk is STORED (its slot never moves again, and a write of
 * the original no longer touches it) and the storage takes the read as one
 * bio; the storage then counts it in flight until
 * blksnap_diff_area_image_stored_end().  For ->submit_bio: no lock.
 */
bool blksnap_diff_area_image_stored(struct diff_area *da, unsigned long nr,
				    unsigned int offset, unsigned int sectors,
				    struct block_device **bdev, sector_t *sector)
{
	struct chunk *chunk = xa_load(&da->chunks, nr);

	if (diff_area_failed(da) || !chunk ||
	    chunk_state(chunk) != CHUNK_STORED)
		return false;
	return blksnap_diff_storage_map(diff_area_storage(da),
					chunk->store_offset + offset, sectors,
					bdev, sector);
}

/* A read of blksnap_diff_area_image_stored() ended; any context. */
void blksnap_diff_area_image_stored_end(struct diff_area *da)
{
	blksnap_diff_storage_unmap(diff_area_storage(da));
}

/*
 * An image read of a chunk that was not saved reads the original, without
 * any lock against copy-on-write.  It can only have seen new data if a
 * write to that chunk was released before the read completed, and a
 * write is released only after its chunk left LOADING.  So once the read
 * is done: no chunk, or a chunk still LOADING, means the data is the
 * original's; otherwise it is read again from the saved copy.  Once the
 * snapshot is broken, writes pass uncopied, so the read fails instead.
 */
static int diff_area_image_piece(struct diff_area *da, unsigned long nr,
				 unsigned int offset, struct iov_iter *iter,
				 bool write)
{
	struct iov_iter again = *iter;
	struct chunk *chunk;
	int ret;

	if (diff_area_failed(da))
		return -EIO;

	chunk = xa_load(&da->chunks, nr);
	if (!chunk && !write) {
		ret = blksnap_chunk_read_bdev(da->orig_bdev,
					      ((sector_t)nr << da->chunk_shift) +
					      offset, iter);
		if (ret)
			return ret;
		if (blksnap_diff_area_image_original(da, nr, true))
			return 0;
		if (diff_area_failed(da))
			return -EIO;
		*iter = again;
	}
	/* The image's own changes go over a saved copy. */
	chunk = diff_area_load_wait(da, nr);
	if (!chunk)
		return -EIO;

again:
	mutex_lock(&chunk->lock);
	if (diff_area_failed(da)) {
		ret = -EIO;
	} else if (chunk->state == CHUNK_LOADED ||
		   (chunk->state == CHUNK_STORING && !write)) {
		blksnap_chunk_copy(chunk, offset << SECTOR_SHIFT, iter, write);
		ret = 0;
	} else if (chunk->state == CHUNK_STORING) {
		/*
		 * The pages are being written to the storage: a change now
		 * could be half in the slot and then freed with the pages.
		 */
		mutex_unlock(&chunk->lock);
		wait_event(da->wq, chunk_state(chunk) != CHUNK_STORING);
		goto again;
	} else if (chunk->state == CHUNK_STORED) {
		ret = blksnap_diff_storage_rw(diff_area_storage(da),
					      chunk->store_offset + offset, iter, write);
		if (ret)
			blksnap_diff_area_set_corrupted(da, ret);
	} else {
		ret = -EIO;
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

	seq_printf(m, "  device %d:%d chunk_sectors %u chunks %lu changed %u chunk_state_bytes %zu in_memory %d chunk_limit %u image_rereads %d error %d",
		   MAJOR(da->dev_id), MINOR(da->dev_id), 1U << da->chunk_shift,
		   da->chunk_count, nr, nr * sizeof(struct chunk),
		   atomic_read(&da->in_memory), diff_area_pool(da)->chunk_limit,
		   atomic_read(&da->image_rereads), READ_ONCE(da->error));
	diff_area_stage_show(m, "held", &da->prof_held);
	diff_area_stage_show(m, "loads", &da->prof_load);
	diff_area_stage_show(m, "stores", &da->prof_store);
	diff_area_stage_show(m, "cow", &da->prof_cow);
	diff_area_stage_show(m, "alloc", &da->prof_alloc);
	diff_area_stage_show(m, "pool_waits", &da->prof_pool);
	diff_area_stage_show(m, "submits", &da->prof_submit);
	seq_putc(m, '\n');
}
