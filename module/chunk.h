/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_CHUNK_H
#define __BLKSNAP_CHUNK_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct block_device;
struct diff_area;
struct iov_iter;
struct bio_vec;

/**
 * struct chunk - the saved original content of one changed chunk
 * @diff_area:		owner
 * @number:		index of the chunk on the device
 * @sector_count:	length; only the last chunk of a device is shorter
 * @lock:		held while the content moves between memory and the
 *			difference storage, so readers see it in one place
 * @stored:		the content is in the difference storage
 * @failed:		the content is lost; the snapshot is corrupted
 * @store_offset:	where in the difference storage, once @stored
 * @nr_pages:		length of @bvecs
 * @bvecs:		pages with the content while it waits to be stored,
 *			else NULL; as bio_vecs, so that one call stores all
 * @store_work:		moves the content to the difference storage
 *
 * A chunk exists only once its original content had to be saved; chunks
 * that never changed cost nothing.
 */
struct chunk {
	struct diff_area *diff_area;
	unsigned long number;
	unsigned int sector_count;
	struct mutex lock; /* see above */
	bool stored;
	bool failed;
	sector_t store_offset;
	unsigned int nr_pages;
	struct bio_vec *bvecs;
	struct work_struct store_work;
};

int blksnap_chunk_init(void);
void blksnap_chunk_done(void);

struct chunk *blksnap_chunk_alloc(struct diff_area *diff_area, unsigned long number,
				  unsigned int sector_count);
void blksnap_chunk_free(struct chunk *chunk);
int blksnap_chunk_load(struct chunk *chunk, struct block_device *bdev,
		       sector_t sector);
void blksnap_chunk_copy(struct chunk *chunk, unsigned int offset,
			struct iov_iter *iter, bool to_chunk);
void blksnap_chunk_release_pages(struct chunk *chunk);
void blksnap_chunk_iter(struct chunk *chunk, struct iov_iter *iter);
int blksnap_chunk_read_bdev(struct block_device *bdev, sector_t sector,
			    struct iov_iter *iter);

#endif /* __BLKSNAP_CHUNK_H */
