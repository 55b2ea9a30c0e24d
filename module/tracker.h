/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_TRACKER_H
#define __BLKSNAP_TRACKER_H

#include <linux/blk_types.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include "cbt_map.h"

struct diff_area;

/**
 * struct tracker - the blksnap filter attached to one block device
 * @refs:	the filter table holds one reference; the bio path and ioctls
 *		take more while they use the tracker outside RCU
 * @bdev:	the tracked device (whole disk or partition); a reference on
 *		its struct device keeps the pointer unique while we hold it
 * @ctl_lock:	serialises ioctls and capacity changes of this tracker
 * @cbt:	the change-block tracking map
 * @diff_area:	copy-on-write state while the device is in a taken
 *		snapshot, else NULL.  Owned by the snapshot code; read in the
 *		bio path under RCU (see blksnap_tracker_cow()).
 */
struct tracker {
	refcount_t refs;
	struct block_device *bdev;
	struct mutex ctl_lock; /* see @ctl_lock above */
	struct cbt_map cbt;
	struct diff_area __rcu *diff_area;
};

struct tracker *blksnap_tracker_create(struct block_device *bdev);
void blksnap_tracker_put(struct tracker *tracker);

static inline void tracker_get(struct tracker *tracker)
{
	refcount_inc(&tracker->refs);
}

/* True for bios that change data and therefore mark the CBT map. */
bool blksnap_tracker_bio_changes_data(struct bio *bio);

/*
 * Bio path, with RCU held, for a bio that changes data: stamps the blocks
 * of [@sector, @sector + @count) in the tracker's coordinates and counts
 * the write in flight.  Every stamp must be ended by tracker_write_done()
 * when the write completes, and the tracker outlives its writes in flight
 * (blksnap_tracker_wait_idle()).
 */
struct cbt_stamp blksnap_tracker_mark(struct tracker *tracker, sector_t sector,
				      sector_t count);

static inline void tracker_write_done(struct tracker *tracker,
				      struct cbt_stamp stamp)
{
	blksnap_cbt_map_write_done(&tracker->cbt, stamp);
}

/* Waits until no write marked on the tracker is in flight any more. */
void blksnap_tracker_wait_idle(struct tracker *tracker);

/**
 * blksnap_tracker_cow - copy-on-write entry of the bio path (snapshot extension)
 * @tracker:	a tracker whose @diff_area was set; the caller holds a ref
 * @bio:	the data-changing bio, not yet submitted.  Its sector is
 *		relative to bio->bi_bdev, which is @tracker->bdev or, for a
 *		whole-disk tracker, one of the disk's partitions (then add
 *		bio->bi_bdev->bd_start_sect unless BIO_REMAPPED is set).
 * @stamp:	what blksnap_tracker_mark() stamped on the bio for this tracker: a
 *		bio stamped before the take belongs to the image and is
 *		never copied over
 *
 * Runs in process context and may sleep (not for I/O: only to wait for
 * memory, or for the writes of the take to drain).  To postpone the bio it
 * takes a hold with blksnap_filter_hold() and drops it later with
 * blksnap_filter_release(); to end a REQ_NOWAIT bio with BLK_STS_AGAIN it
 * calls blksnap_filter_refuse().  The filter submits the bio once no
 * tracker holds it.
 */
void blksnap_tracker_cow(struct tracker *tracker, struct bio *bio,
			 struct cbt_stamp stamp);

/*
 * Called when the tracker is being detached, by ioctl or because the
 * device went away, after it is no longer reachable from the bio path.
 */
void blksnap_tracker_release_snapshot(struct tracker *tracker);

/* Reasons an explicit BLKFILTER_DETACH must be refused, e.g. a snapshot. */
int blksnap_tracker_may_detach(struct tracker *tracker);

/* BLKFILTER_CTL commands of the blksnap filter; errnos in README.md. */
long blksnap_tracker_ctl(struct tracker *tracker, unsigned int cmd,
			 void __user *opt, u32 optlen);

/* Rebuilds the CBT map if the device's capacity changed. */
int blksnap_tracker_check_capacity(struct tracker *tracker);

#endif /* __BLKSNAP_TRACKER_H */
