/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_CHUNK_H
#define __BLKSNAP_CHUNK_H

#include <linux/blk_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include "compat.h"

struct bio;
struct block_device;
struct diff_area;
struct iov_iter;
struct bio_vec;

/**
 * enum chunk_state - where the original content of a changed chunk is
 * @CHUNK_LOADING:	being read from the original device into the chunk's
 *			pages; writes to the chunk are held until it ends
 * @CHUNK_LOADED:	in the pages; the held writes went on; a store is
 *			queued
 * @CHUNK_STORING:	in the pages, being written to the difference storage
 *			asynchronously; the pages may be read, not written,
 *			until the completion (under @lock) leaves the state
 * @CHUNK_STORED:	in the difference storage only; the pages are freed
 * @CHUNK_FAILED:	lost (read or store failed, or the snapshot stopped);
 *			the device's snapshot is corrupted or destroyed
 *
 * A chunk that never changed has no struct chunk at all ("absent").  The
 * transitions, who makes them under which lock, and what each allows, are
 * in module/README.md, "Chunk states".  LOADING is left exactly once.
 */
enum chunk_state {
	CHUNK_LOADING,
	CHUNK_LOADED,
	CHUNK_STORING,
	CHUNK_STORED,
	CHUNK_FAILED,
};

/**
 * struct chunk - the saved original content of one changed chunk
 * @diff_area:		owner
 * @number:		index of the chunk on the device
 * @sector_count:	length; only the last chunk of a device is shorter
 * @state:		enum chunk_state; read without a lock with
 *			chunk_state(), see module/README.md
 * @store_error:	errno of the store, handed from its completion to the
 *			work that ends it (fits in the hole after @state)
 * @lock:		held to change @state after LOADING, to free the
 *			pages, and by image I/O of the content, so readers
 *			see it in one place
 * @store_offset:	where in the difference storage, once STORED
 * @nr_pages:		length of @bvecs
 * @bvecs:		the pages while LOADING, LOADED or STORING, else NULL;
 *			as bio_vecs, so that one call reads or stores them all
 * @store_work:		ends the store in process context once the storage
 *			completed it
 *
 * A chunk exists only once its original content had to be saved; chunks
 * that never changed cost nothing.
 */
struct chunk {
	struct diff_area *diff_area;
	unsigned long number;
	unsigned int sector_count;
	u8 state;
	s16 store_error;
	struct mutex lock; /* see above */
	sector_t store_offset;
	unsigned int nr_pages;
	struct bio_vec *bvecs;
	struct work_struct store_work;
};

static inline enum chunk_state chunk_state(struct chunk *chunk)
{
	/* Pairs with chunk_set_state(): the content is there when seen. */
	return smp_load_acquire(&chunk->state);
}

static inline void chunk_set_state(struct chunk *chunk, enum chunk_state state)
{
	/* The pages are filled (or freed) before the state says so. */
	smp_store_release(&chunk->state, state);
}

/**
 * struct chunk_pool - the bound on chunk pages in memory for one snapshot
 * @lock:	guards @used and every device's count of chunks in the pool
 * @used:	pages of chunks LOADING, LOADED or STORING
 * @limit:	pages allowed, from the chunk_maximum_buffer_mib parameter
 *		when the snapshot was created
 * @chunk_limit: chunks of one device allowed, from the
 *		chunk_maximum_in_queue parameter when the snapshot was created
 * @wq:		blocking writers wait here for pages to be stored and freed
 * @spare:	pages of chunks that left memory, kept for new chunks, linked
 *		by their lru; guarded by @lock
 * @nr_spare:	length of @spare
 * @spare_low:	the fewest spares since @trim last ran: those no chunk needed
 * @trim:	every period while there are spares, frees @spare_low of them
 *
 * Reservation and spares change together under @lock, so @used plus
 * @nr_spare, the pages the pool holds, stay within @limit (but for a chunk
 * larger than the whole pool, let in alone).  Reusing pages saves their
 * allocation, which with init_on_alloc (the default of distribution
 * kernels) zeroes each page.
 */
struct chunk_pool {
	spinlock_t lock; /* see above */
	unsigned long used;
	unsigned long limit;
	unsigned int chunk_limit;
	wait_queue_head_t wq;
	struct list_head spare;
	unsigned long nr_spare;
	unsigned long spare_low;
	struct delayed_work trim;
};

int blksnap_chunk_init(void);
void blksnap_chunk_done(void);

void blksnap_chunk_pool_init(struct chunk_pool *pool);
void blksnap_chunk_pool_done(struct chunk_pool *pool);
bool blksnap_chunk_pool_get(struct chunk_pool *pool, unsigned int *chunks,
			    unsigned long pages, struct list_head *spare);
void blksnap_chunk_pool_put(struct chunk_pool *pool, unsigned int *chunks,
			    unsigned long pages, struct list_head *freed);
void blksnap_chunk_pool_stat(struct chunk_pool *pool, unsigned long *used,
			     unsigned long *spare);

struct chunk *blksnap_chunk_alloc(struct diff_area *diff_area, unsigned long number,
				  unsigned int sector_count,
				  struct list_head *spare, gfp_t gfp);
void blksnap_chunk_free(struct chunk *chunk);
struct bio *blksnap_chunk_bio_alloc(struct block_device *bdev, unsigned short nr_vecs,
				    blk_opf_t opf, gfp_t gfp);
void blksnap_chunk_copy(struct chunk *chunk, unsigned int offset,
			struct iov_iter *iter, bool to_chunk);
void blksnap_chunk_release_pages(struct chunk *chunk, struct list_head *pages);
void blksnap_chunk_iter(struct chunk *chunk, struct iov_iter *iter);
int blksnap_chunk_read_bdev(struct block_device *bdev, sector_t sector,
			    struct iov_iter *iter);

#endif /* __BLKSNAP_CHUNK_H */
