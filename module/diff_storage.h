/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_DIFF_STORAGE_H
#define __BLKSNAP_DIFF_STORAGE_H

#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>

struct event_queue;
struct file;
struct iov_iter;

/**
 * struct diff_storage - where the original content of changed chunks goes
 * @file:		a regular file (perhaps unnamed) or a block device,
 *			always accessed through the VFS; NULL once released
 * @file_lock:		shared by every use of @file, exclusive to release it
 * @dev_id:		block device under @file, 0 if none (tmpfs)
 * @whole_id:		whole disk of @dev_id
 * @growable:		a file that fallocate grows; a block device is fixed
 * @capacity:		sectors that can be handed out now
 * @filled:		sectors already handed out
 * @limit:		@capacity never grows beyond this
 * @lock:		serialises allocation and growth
 * @error:		first failure of the storage; sticky, set only with
 *			diff_storage_fail(), read with diff_storage_error()
 * @no_space_sent:	the no_space event was queued already
 * @events:		the snapshot's event queue
 */
struct diff_storage {
	struct file *file;
	struct rw_semaphore file_lock; /* see above */
	dev_t dev_id;
	dev_t whole_id;
	bool growable;
	sector_t capacity;
	sector_t filled;
	sector_t limit;
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
int blksnap_diff_storage_holds(struct diff_storage *ds, dev_t dev, dev_t whole);

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
