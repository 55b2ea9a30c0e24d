// SPDX-License-Identifier: GPL-2.0
/*
 * A chunk is the unit of copy-on-write.  Its original content is read into
 * pages while the writes that change it are held, then kept in those pages
 * until a worker moves it to the difference storage.  The pages of one
 * snapshot's chunks are bounded by its pool.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-chunk: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "chunk.h"
#include "compat.h"
#include "snapshot.h"

/*
 * Our own bio pool: the reads below happen while a write of the original
 * device is held, so they must not compete with filesystems for fs_bio_set.
 */
static struct bio_set chunk_bioset;

int blksnap_chunk_init(void)
{
	return bioset_init(&chunk_bioset, 64, 0, BIOSET_NEED_BVECS);
}

void blksnap_chunk_done(void)
{
	bioset_exit(&chunk_bioset);
}

/*
 * The pool bounds memory: a chunk's pages are reserved in it before they
 * are taken, spares first, then from the page allocator.  When the chunk
 * leaves memory they stay in the pool as spares, within the bound, and
 * every CHUNK_SPARE_PERIOD the spares that no chunk needed during the
 * last period go back to the allocator.  Each snapshot reads the bound
 * once, at create; a chunk larger than the whole bound is still let in
 * when the pool is empty, so no chunk size deadlocks.
 */
#define CHUNK_SPARE_PERIOD		HZ
/* Frees that many pages between two chances to reschedule. */
#define CHUNK_FREE_BATCH		512
#define CHUNK_BUFFER_MIB_HIGHEST	65536

static int chunk_buffer_mib_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CHUNK_BUFFER_MIB_HIGHEST);
}

static const struct kernel_param_ops chunk_buffer_mib_ops = {
	.set = chunk_buffer_mib_set,
	.get = param_get_uint,
};

static unsigned int chunk_maximum_buffer_mib = 64;
module_param_cb(chunk_maximum_buffer_mib, &chunk_buffer_mib_ops,
		&chunk_maximum_buffer_mib, 0644);
MODULE_PARM_DESC(chunk_maximum_buffer_mib,
		 "MiB of original content a snapshot may hold in memory, being read or waiting to be stored (1..65536)");

/*
 * Upstream's name and meaning, kept for its user space and scripts, which
 * set it: how many chunks of one device may wait in memory to be stored.
 * Here it is the pool's second bound, in chunks of one device; the
 * default, 256 chunks of the default 256 KiB, is the default 64 MiB, so
 * only a value set on purpose makes it the tighter bound.  Upstream took
 * 0 (store at once); here every chunk waits in memory at least until its
 * store ends, so 0 would mean nothing and is refused like the others.
 */
#define CHUNK_IN_QUEUE_HIGHEST		65536

static int chunk_in_queue_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CHUNK_IN_QUEUE_HIGHEST);
}

static const struct kernel_param_ops chunk_in_queue_ops = {
	.set = chunk_in_queue_set,
	.get = param_get_uint,
};

static unsigned int chunk_maximum_in_queue = 256;
module_param_cb(chunk_maximum_in_queue, &chunk_in_queue_ops,
		&chunk_maximum_in_queue, 0644);
MODULE_PARM_DESC(chunk_maximum_in_queue,
		 "Chunks of one device a snapshot may hold in memory, being read or waiting to be stored (1..65536)");

static void chunk_pages_free(struct list_head *pages)
{
	struct page *page, *next;
	unsigned int n = 0;

	list_for_each_entry_safe(page, next, pages, lru) {
		__free_page(page);
		if (++n % CHUNK_FREE_BATCH == 0)
			cond_resched();
	}
	INIT_LIST_HEAD(pages);
}

/* Moves @count spare pages to @pages; under @pool->lock. */
static void chunk_pool_move_spare(struct chunk_pool *pool,
				  struct list_head *pages, unsigned long count)
{
	pool->nr_spare -= count;
	while (count--)
		list_move(pool->spare.next, pages);
	pool->spare_low = min(pool->spare_low, pool->nr_spare);
}

static void chunk_pool_arm_trim(struct chunk_pool *pool)
{
	queue_delayed_work(blksnap_snapshot_wq, &pool->trim, CHUNK_SPARE_PERIOD);
}

/*
 * Frees the spares that stayed unused for a whole period: as many as the
 * fewest the pool had during it.  Idle, all go within two periods.
 */
static void chunk_pool_trim(struct work_struct *work)
{
	struct chunk_pool *pool = container_of(to_delayed_work(work),
					       struct chunk_pool, trim);
	LIST_HEAD(unused);
	bool again;

	spin_lock(&pool->lock);
	chunk_pool_move_spare(pool, &unused, pool->spare_low);
	pool->spare_low = pool->nr_spare;
	again = pool->nr_spare;
	spin_unlock(&pool->lock);
	chunk_pages_free(&unused);
	if (again)
		chunk_pool_arm_trim(pool);
}

void blksnap_chunk_pool_init(struct chunk_pool *pool)
{
	spin_lock_init(&pool->lock);
	init_waitqueue_head(&pool->wq);
	pool->used = 0;
	pool->limit = (unsigned long)READ_ONCE(chunk_maximum_buffer_mib) <<
		      (20 - PAGE_SHIFT);
	pool->chunk_limit = READ_ONCE(chunk_maximum_in_queue);
	INIT_LIST_HEAD(&pool->spare);
	pool->nr_spare = 0;
	pool->spare_low = 0;
	INIT_DELAYED_WORK(&pool->trim, chunk_pool_trim);
}

/**
 * blksnap_chunk_pool_done() - free the spare pages of a pool no chunk uses
 * @pool:	the pool of a snapshot being freed; process context
 */
void blksnap_chunk_pool_done(struct chunk_pool *pool)
{
	LIST_HEAD(spare);

	cancel_delayed_work_sync(&pool->trim);
	spin_lock(&pool->lock);
	chunk_pool_move_spare(pool, &spare, pool->nr_spare);
	spin_unlock(&pool->lock);
	chunk_pages_free(&spare);
}

/**
 * blksnap_chunk_pool_get() - reserve room for one chunk, without waiting
 * @pool:	the snapshot's pool
 * @chunks:	the chunks of the chunk's device in the pool; guarded by
 *		@pool->lock
 * @pages:	pages of the chunk
 * @spare:	an empty list; receives up to @pages spare pages, which
 *		blksnap_chunk_alloc() takes before it allocates
 *
 * Reserving and taking the spares in one go keeps reserved plus spare
 * pages, what the pool holds, within its bound at every moment.
 *
 * Return: true if reserved; the caller waits on @pool->wq to try again.
 */
bool blksnap_chunk_pool_get(struct chunk_pool *pool, unsigned int *chunks,
			    unsigned long pages, struct list_head *spare)
{
	bool got;

	spin_lock(&pool->lock);
	/* An empty pool holds no chunk of this device either: no deadlock. */
	got = !pool->used ||
	      (pool->used + pages <= pool->limit && *chunks < pool->chunk_limit);
	if (got) {
		pool->used += pages;
		(*chunks)++;
		chunk_pool_move_spare(pool, spare, min(pages, pool->nr_spare));
	}
	spin_unlock(&pool->lock);
	return got;
}

/* Reserved and spare pages now, for statistics. */
void blksnap_chunk_pool_stat(struct chunk_pool *pool, unsigned long *used,
			     unsigned long *spare)
{
	spin_lock(&pool->lock);
	*used = pool->used;
	*spare = pool->nr_spare;
	spin_unlock(&pool->lock);
}

/**
 * blksnap_chunk_pool_put() - give back a reservation and its pages
 * @pool:	the snapshot's pool
 * @chunks:	as for blksnap_chunk_pool_get()
 * @pages:	what blksnap_chunk_pool_get() reserved
 * @freed:	the chunk's pages, or the spares taken and not used; emptied
 *
 * The pages become spares, except what would take the pool over its
 * bound: only a chunk larger than the whole pool leaves that many.
 * Process context.
 */
void blksnap_chunk_pool_put(struct chunk_pool *pool, unsigned int *chunks,
			    unsigned long pages, struct list_head *freed)
{
	unsigned long count = 0, room;
	struct list_head *pos;
	LIST_HEAD(excess);
	bool arm;

	list_for_each(pos, freed)
		count++;
	spin_lock(&pool->lock);
	pool->used -= pages;
	(*chunks)--;
	list_splice_init(freed, &pool->spare);
	pool->nr_spare += count;
	room = pool->limit > pool->used ? pool->limit - pool->used : 0;
	if (pool->nr_spare > room)
		chunk_pool_move_spare(pool, &excess, pool->nr_spare - room);
	arm = pool->nr_spare;
	spin_unlock(&pool->lock);
	chunk_pages_free(&excess);
	/* Pending already while copy-on-write goes on: then a no-op. */
	if (arm)
		chunk_pool_arm_trim(pool);
	wake_up_all(&pool->wq);
}

/**
 * blksnap_chunk_alloc() - a new chunk in state LOADING, with its pages
 * @diff_area:		owner
 * @number:		index on the device
 * @sector_count:	length
 * @spare:		pages blksnap_chunk_pool_get() took for it, used first;
 *			on failure every page taken or allocated is left here
 * @gfp:		GFP_NOIO for a writer that may wait, GFP_NOWAIT for
 *			one that may not
 *
 * The pages must have been reserved in the snapshot's pool.
 *
 * Return: the chunk, or NULL without memory.
 */
struct chunk *blksnap_chunk_alloc(struct diff_area *diff_area, unsigned long number,
				  unsigned int sector_count,
				  struct list_head *spare, gfp_t gfp)
{
	bool may_wait = gfpflags_allow_blocking(gfp);
	unsigned int noio = memalloc_noio_save();
	struct chunk *chunk;
	unsigned int i;

	/* Inside the no-I/O scope, GFP_KERNEL is GFP_NOIO that kvmalloc takes. */
	if (may_wait)
		gfp = GFP_KERNEL;
	chunk = kzalloc(sizeof(*chunk), gfp);
	if (!chunk)
		goto out;
	chunk->diff_area = diff_area;
	chunk->number = number;
	chunk->sector_count = sector_count;
	chunk->state = CHUNK_LOADING;
	mutex_init(&chunk->lock);

	chunk->nr_pages = DIV_ROUND_UP(sector_count, PAGE_SECTORS);
	chunk->bvecs = may_wait ?
		kvcalloc(chunk->nr_pages, sizeof(*chunk->bvecs), gfp) :
		kcalloc(chunk->nr_pages, sizeof(*chunk->bvecs), gfp);
	if (!chunk->bvecs)
		goto fail;
	for (i = 0; i < chunk->nr_pages; i++) {
		unsigned int len = min_t(unsigned int, PAGE_SIZE,
					 (sector_count << SECTOR_SHIFT) -
					 i * PAGE_SIZE);
		struct page *page = list_first_entry_or_null(spare, struct page,
							     lru);

		if (page)
			list_del(&page->lru);
		else
			page = alloc_page(gfp);
		if (!page)
			goto fail;
		bvec_set_page(&chunk->bvecs[i], page, len, 0);
	}
out:
	memalloc_noio_restore(noio);
	return chunk;
fail:
	blksnap_chunk_release_pages(chunk, spare);
	kfree(chunk);
	chunk = NULL;
	goto out;
}

/**
 * blksnap_chunk_release_pages() - the content left memory (stored or lost)
 * @chunk:	the chunk
 * @pages:	receives its pages, for blksnap_chunk_pool_put()
 */
void blksnap_chunk_release_pages(struct chunk *chunk, struct list_head *pages)
{
	unsigned int i;

	if (!chunk->bvecs)
		return;
	for (i = 0; i < chunk->nr_pages; i++)
		if (chunk->bvecs[i].bv_page)
			list_add(&chunk->bvecs[i].bv_page->lru, pages);
	kvfree(chunk->bvecs);
	chunk->bvecs = NULL;
}

/* The whole content of a chunk with pages, as the source of a write. */
void blksnap_chunk_iter(struct chunk *chunk, struct iov_iter *iter)
{
	iov_iter_bvec(iter, ITER_SOURCE, chunk->bvecs, chunk->nr_pages,
		      chunk->sector_count << SECTOR_SHIFT);
}

/* For a chunk whose pages were released (blksnap_chunk_release_pages()). */
void blksnap_chunk_free(struct chunk *chunk)
{
	kfree(chunk);
}

/*
 * Bios of copy-on-write come from our own pool: they are allocated while a
 * write of the original device is held, so they must not compete with
 * filesystems for fs_bio_set.  With GFP_NOWAIT this may return NULL.
 */
struct bio *blksnap_chunk_bio_alloc(struct block_device *bdev, unsigned short nr_vecs,
				    blk_opf_t opf, gfp_t gfp)
{
	return blksnap_bio_alloc_bioset(bdev, nr_vecs, opf, gfp, &chunk_bioset);
}

static void chunk_bio_end_io(struct bio *bio)
{
	complete(bio->bi_private);
}

/*
 * Submitted from module code on purpose: the filter lets bios whose
 * submitter lies in this module pass untouched.
 */
static int chunk_submit_wait(struct bio *bio)
{
	DECLARE_COMPLETION_ONSTACK(done);

	bio->bi_private = &done;
	bio->bi_end_io = chunk_bio_end_io;
	submit_bio_noacct(bio);
	wait_for_completion_io(&done);
	return blk_status_to_errno(bio->bi_status);
}

/**
 * blksnap_chunk_read_bdev() - read sectors of a device straight into an iterator
 * @bdev:	the device
 * @sector:	first sector
 * @iter:	a bvec iterator; consumed
 *
 * Return: 0 or the negative errno of the read.
 */
int blksnap_chunk_read_bdev(struct block_device *bdev, sector_t sector,
			    struct iov_iter *iter)
{
	struct bio *bio;
	int ret;

	bio = blksnap_bio_alloc_bioset(bdev, blksnap_bvec_iter_npages(iter),
				       REQ_OP_READ | REQ_SYNC, GFP_NOIO,
				       &chunk_bioset);
	bio->bi_iter.bi_sector = sector;
	ret = blksnap_bio_add_bvec_iter(bio, iter);
	if (!ret)
		ret = chunk_submit_wait(bio);
	bio_put(bio);
	return ret;
}

/**
 * blksnap_chunk_copy() - move bytes between the chunk's pages and an iterator
 * @chunk:	the chunk, with pages, locked
 * @offset:	byte offset inside the chunk
 * @iter:	the other side; consumed
 * @to_chunk:	direction
 */
void blksnap_chunk_copy(struct chunk *chunk, unsigned int offset,
			struct iov_iter *iter, bool to_chunk)
{
	while (iov_iter_count(iter)) {
		struct page *page = chunk->bvecs[offset >> PAGE_SHIFT].bv_page;
		unsigned int in_page = offset & ~PAGE_MASK;
		size_t len = min_t(size_t, PAGE_SIZE - in_page,
				   iov_iter_count(iter));

		if (to_chunk)
			len = copy_page_from_iter(page, in_page, len, iter);
		else
			len = copy_page_to_iter(page, in_page, len, iter);
		if (WARN_ON_ONCE(!len))
			return;
		offset += len;
	}
}
