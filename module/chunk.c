// SPDX-License-Identifier: GPL-2.0
/*
 * A chunk is the unit of copy-on-write.  Its original content is read into
 * pages while the write that changes it is held, then kept in those pages
 * until a worker moves it to the difference storage.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-chunk: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "chunk.h"
#include "compat.h"

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

struct chunk *blksnap_chunk_alloc(struct diff_area *diff_area, unsigned long number,
				  unsigned int sector_count)
{
	unsigned int noio = memalloc_noio_save();
	struct chunk *chunk;
	unsigned int i;

	chunk = kzalloc(sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		goto out;
	chunk->diff_area = diff_area;
	chunk->number = number;
	chunk->sector_count = sector_count;
	mutex_init(&chunk->lock);

	chunk->nr_pages = DIV_ROUND_UP(sector_count, PAGE_SECTORS);
	chunk->bvecs = kvcalloc(chunk->nr_pages, sizeof(*chunk->bvecs),
				GFP_KERNEL);
	if (!chunk->bvecs)
		goto fail;
	for (i = 0; i < chunk->nr_pages; i++) {
		unsigned int len = min_t(unsigned int, PAGE_SIZE,
					 (sector_count << SECTOR_SHIFT) -
					 i * PAGE_SIZE);
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page)
			goto fail;
		bvec_set_page(&chunk->bvecs[i], page, len, 0);
	}
out:
	memalloc_noio_restore(noio);
	return chunk;
fail:
	blksnap_chunk_free(chunk);
	chunk = NULL;
	goto out;
}

void blksnap_chunk_release_pages(struct chunk *chunk)
{
	unsigned int i;

	if (!chunk->bvecs)
		return;
	for (i = 0; i < chunk->nr_pages; i++)
		if (chunk->bvecs[i].bv_page)
			__free_page(chunk->bvecs[i].bv_page);
	kvfree(chunk->bvecs);
	chunk->bvecs = NULL;
}

/* The whole content of a chunk with pages, as the source of a write. */
void blksnap_chunk_iter(struct chunk *chunk, struct iov_iter *iter)
{
	iov_iter_bvec(iter, ITER_SOURCE, chunk->bvecs, chunk->nr_pages,
		      chunk->sector_count << SECTOR_SHIFT);
}

void blksnap_chunk_free(struct chunk *chunk)
{
	blksnap_chunk_release_pages(chunk);
	kfree(chunk);
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
 * blksnap_chunk_load() - read the original content of a chunk into its pages
 * @chunk:	the chunk, with pages
 * @bdev:	the original device
 * @sector:	first sector of the chunk on @bdev
 *
 * Return: 0 or the negative errno of the read.
 */
int blksnap_chunk_load(struct chunk *chunk, struct block_device *bdev,
		       sector_t sector)
{
	unsigned int page = 0;
	int ret = 0;

	while (page < chunk->nr_pages && !ret) {
		unsigned short nr = min_t(unsigned int, BIO_MAX_VECS,
					  chunk->nr_pages - page);
		struct bio *bio;

		bio = blksnap_bio_alloc_bioset(bdev, nr,
					       REQ_OP_READ | REQ_SYNC, GFP_NOIO,
					       &chunk_bioset);
		bio->bi_iter.bi_sector = sector;
		while (nr--) {
			struct bio_vec *bv = &chunk->bvecs[page++];

			__bio_add_page(bio, bv->bv_page, bv->bv_len, 0);
		}
		sector += bio_sectors(bio);
		ret = chunk_submit_wait(bio);
		bio_put(bio);
	}
	return ret;
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
