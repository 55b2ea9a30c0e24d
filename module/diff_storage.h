/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_DIFF_STORAGE_H
#define __BLKSNAP_DIFF_STORAGE_H

#include <linux/blk_types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/wait.h>
#include "compat.h"

struct bio;
struct block_device;
struct event_queue;
struct file;
struct iov_iter;
struct storage_extents;

/**
 * enum diff_storage_kind - how the storage is reached (module/README.md,
 * "Difference storage kinds")
 * @DIFF_STORAGE_BDEV:		a whole block device, opened exclusively;
 *				fixed size
 * @DIFF_STORAGE_FILE:		a regular or unnamed file, through the VFS;
 *				grows with fallocate up to the limit
 * @DIFF_STORAGE_EXTENTS:	a file on the filesystem of a device of the
 *				snapshot: allocated in full before the take,
 *				pinned, and written with bios straight to its
 *				sectors; fixed size
 *
 * A storage starts as BDEV or FILE; a FILE becomes EXTENTS when a device
 * its writes land on is added to the snapshot (blksnap_diff_storage_admit()),
 * and never changes again.
 */
enum diff_storage_kind {
	DIFF_STORAGE_BDEV,
	DIFF_STORAGE_FILE,
	DIFF_STORAGE_EXTENTS,
};

/**
 * struct diff_storage - where the original content of changed chunks goes
 * @kind:		see enum diff_storage_kind; set before the take
 * @file:		the storage's file (block device, regular or unnamed
 *			file); NULL once released
 * @file_lock:		shared by every use of @file, exclusive to release it
 * @bdev:		where bios go: the block device (BDEV) or the
 *			filesystem's device (EXTENTS); else NULL
 * @extents:		the pinned block map (EXTENTS), freed with the storage
 * @in_flight:		asynchronous I/O submitted and not yet ended
 * @in_flight_wq:	release waits here until @in_flight is 0
 * @dev_id:		block device under @file, 0 if none (tmpfs)
 * @whole_id:		whole disk of @dev_id
 * @logical_block:	sectors of the storage's logical block; slots are
 *			aligned to it
 * @capacity:		sectors that can be handed out now
 * @filled:		sectors already handed out
 * @limit:		@capacity never grows beyond this
 * @direct:		a FILE whose stores go out as asynchronous direct I/O;
 *			cleared for good if the filesystem refuses one
 * @lock:		serialises allocation and growth
 * @error:		first failure of the storage; sticky, set only with
 *			diff_storage_fail(), read with diff_storage_error()
 * @no_space_sent:	the no_space event was queued already
 * @events:		the snapshot's event queue
 */
struct diff_storage {
	enum diff_storage_kind kind;
	struct file *file;
	struct rw_semaphore file_lock; /* see above */
	struct block_device *bdev;
	struct storage_extents *extents;
	atomic_t in_flight;
	wait_queue_head_t in_flight_wq;
	dev_t dev_id;
	dev_t whole_id;
	unsigned int logical_block;
	sector_t capacity;
	sector_t filled;
	sector_t limit;
	bool direct;
	struct mutex lock; /* see above */
	int error;
	bool no_space_sent;
	struct event_queue *events;
};

struct diff_storage *blksnap_diff_storage_open(const char *path, sector_t limit,
					       struct event_queue *events);
void blksnap_diff_storage_release_file(struct diff_storage *ds);
void blksnap_diff_storage_close(struct diff_storage *ds);
int blksnap_diff_storage_alloc(struct diff_storage *ds, sector_t count,
			       sector_t *offset);
int blksnap_diff_storage_rw(struct diff_storage *ds, sector_t offset,
			    struct iov_iter *iter, bool write);
int blksnap_diff_storage_submit(struct diff_storage *ds, sector_t offset,
				struct bio_vec *bv, unsigned int nr,
				blksnap_req_op_t op,
				void (*end_io)(void *private, int error),
				void *private);
bool blksnap_diff_storage_map(struct diff_storage *ds, sector_t offset,
			      unsigned int sectors, struct block_device **bdev,
			      sector_t *sector);
void blksnap_diff_storage_unmap(struct diff_storage *ds);
int blksnap_diff_storage_admit(struct diff_storage *ds,
			       struct block_device *bdev);
void blksnap_diff_storage_hide(struct diff_storage *ds,
			       struct block_device *orig, struct bio *bio);
int blksnap_diff_storage_init(void);
void blksnap_diff_storage_done(void);

static inline int diff_storage_error(struct diff_storage *ds)
{
	return READ_ONCE(ds->error);
}

/* Records the first failure; the bio path reads it without any lock. */
static inline void diff_storage_fail(struct diff_storage *ds, int error)
{
	cmpxchg(&ds->error, 0, error);
}

#endif /* __BLKSNAP_DIFF_STORAGE_H */
