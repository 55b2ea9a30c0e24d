/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_DIFF_AREA_H
#define __BLKSNAP_DIFF_AREA_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "cbt_map.h"

struct bio;
struct block_device;
struct iov_iter;
struct seq_file;
struct snapshot;
struct tracker;

/**
 * struct diff_area_stage - the profile of one stage of copy-on-write
 * @ns:		time spent in it, summed
 * @count:	how many went through it
 */
struct diff_area_stage {
	atomic64_t ns;
	atomic_t count;
};

/**
 * struct diff_area - copy-on-write state of one original device
 * @kref:		held by the snapshot, the tracker's bio path, the
 *			image, every load in flight and every chunk waiting
 *			to be stored
 * @snapshot:		owner of the difference storage and event queue
 * @orig_bdev:		the original device, referenced
 * @tracker:		its filter, referenced: image writes mark its CBT map
 * @before:		the CBT stamp of writes made before the take; they
 *			belong to the image and are never copied over
 * @drained:		set once every write stamped @before has completed;
 *			until then copy-on-write may not read the original
 * @dev_id:		its device number
 * @capacity:		sectors at take; later growth is not snapshotted
 * @chunk_shift:	log2 of the chunk size in sectors
 * @chunk_count:	chunks covering @capacity
 * @chunks:		saved chunks by number; absent means unchanged
 * @held_lock:		guards @held and every chunk's way out of LOADING
 * @held:		writes held until the chunks they touch are loaded
 * @in_memory:		chunks LOADING, LOADED or STORING
 * @pool_chunks:	chunks of this device reserved in the snapshot's pool,
 *			bounded by its chunk_limit; guarded by the pool's lock
 * @wq:		image I/O waits here for a load, destroy for @in_memory
 *			to reach 0
 * @error:		0, or the negative errno that corrupted the snapshot
 * @nr_chunks:		saved chunks, for statistics
 * @image_rereads:	image reads of the original that raced a copy and
 *			were served again from the saved copy, for tests
 * @prof_held:		writes held, from hold to release
 * @prof_load:		reads of the original, from submission to the end
 *			of their completion work
 * @prof_store:	stores, from the start of the work to its end
 * @prof_cow:		writes that created chunks, from the first creation
 *			to the start of the last read, in the submitter
 * @prof_alloc:	chunk allocations with their pages, that succeeded
 * @prof_pool:		waits of blocking writers for room in the pool
 * @prof_submit:	submissions of the original's reads
 * @free_work:		releases the device outside the bio path
 */
struct diff_area {
	struct kref kref;
	struct snapshot *snapshot;
	struct block_device *orig_bdev;
	struct tracker *tracker;
	struct cbt_stamp before;
	bool drained;
	dev_t dev_id;
	sector_t capacity;
	unsigned int chunk_shift;
	unsigned long chunk_count;
	struct xarray chunks;
	spinlock_t held_lock; /* see above */
	struct list_head held;
	atomic_t in_memory;
	unsigned int pool_chunks;
	wait_queue_head_t wq;
	int error;
	atomic_t nr_chunks;
	atomic_t image_rereads;
	struct diff_area_stage prof_held;
	struct diff_area_stage prof_load;
	struct diff_area_stage prof_store;
	struct diff_area_stage prof_cow;
	struct diff_area_stage prof_alloc;
	struct diff_area_stage prof_pool;
	struct diff_area_stage prof_submit;
	struct work_struct free_work;
};

struct diff_area *blksnap_diff_area_new(struct snapshot *snapshot,
					struct tracker *tracker);
void blksnap_diff_area_free(struct kref *kref);

static inline void diff_area_get(struct diff_area *da)
{
	kref_get(&da->kref);
}

static inline void diff_area_put(struct diff_area *da)
{
	kref_put(&da->kref, blksnap_diff_area_free);
}

unsigned int blksnap_diff_area_worker_enter(void);
void blksnap_diff_area_worker_leave(unsigned int flags);
int blksnap_diff_area_init(void);
void blksnap_diff_area_done(void);
void blksnap_diff_area_cow_bio(struct diff_area *da, struct bio *bio, sector_t sector,
			       sector_t count);
bool blksnap_diff_area_image_original(struct diff_area *da, unsigned long nr,
				      bool read_done);
bool blksnap_diff_area_image_stored(struct diff_area *da, unsigned long nr,
				    unsigned int offset, unsigned int sectors,
				    struct block_device **bdev, sector_t *sector);
void blksnap_diff_area_image_stored_end(struct diff_area *da);
int blksnap_diff_area_image_rw(struct diff_area *da, sector_t sector,
			       struct iov_iter *iter, bool write);
void blksnap_diff_area_set_corrupted(struct diff_area *da, int error);
void blksnap_diff_area_stop(struct diff_area *da);
void blksnap_diff_area_wait_stored(struct diff_area *da);
int blksnap_diff_area_error(struct diff_area *da);
void blksnap_diff_area_show(struct diff_area *da, struct seq_file *m);

#endif /* __BLKSNAP_DIFF_AREA_H */
