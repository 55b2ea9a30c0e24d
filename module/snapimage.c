// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot images: one bio-based block device per original device, with
 * the same capacity and block sizes, showing the content the original had
 * at the take.  Writes are allowed (a journaling filesystem replays its
 * journal on mount); they land in the difference storage only.
 *
 * Reads are split at chunk borders in ->submit_bio: a chunk nobody changed
 * is read from the original with a clone of the bio, asynchronously; the
 * rest (saved chunks, writes, flushes) is served by a few workers, which
 * may sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-image: " fmt

#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "compat.h"
#include "diff_area.h"
#include "diff_storage.h"
#include "snapimage.h"
#include "snapshot.h"

static int snapimage_major;
static DEFINE_IDA(snapimage_minors);

/*
 * A deleted disk may still be referenced (through sysfs, for instance)
 * without holding the module; unloading waits until every disk is freed,
 * since freeing runs module code.
 */
static atomic_t snapimage_count = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(snapimage_freed);

static void snapimage_free_disk(struct gendisk *disk)
{
	struct snapimage *image = disk->private_data;

	ida_free(&snapimage_minors, disk->first_minor);
	diff_area_put(image->diff_area);
	kfree(image);
	if (atomic_dec_and_test(&snapimage_count))
		wake_up_all(&snapimage_freed);
}

#ifndef BLKSNAP_HAVE_FREE_DISK
/*
 * Before 5.18 a disk does not tell its driver when it is freed: the image
 * counts its openers, and the last opener or the destroy, whichever comes
 * last, frees it as ->free_disk would.  The disk itself lives on until
 * then: the destroy and each opener hold a reference to it.
 */
static void snapimage_put(struct snapimage *image)
{
	if (atomic_dec_and_test(&image->refs))
		snapimage_free_disk(image->disk);
}

static int snapimage_open(struct block_device *bdev, fmode_t mode)
{
	struct snapimage *image = bdev->bd_disk->private_data;

	atomic_inc(&image->refs);
	return 0;
}

static void snapimage_release(struct gendisk *disk, fmode_t mode)
{
	snapimage_put(disk->private_data);
}
#endif

/*
 * A bio of the image becomes an iterator over its segments, so that the
 * diff area can hand any part of it to the original device, to memory or
 * to a file alike.
 */
static int snapimage_serve(struct snapimage *image, struct bio *bio)
{
	bool write = op_is_write(bio_op(bio));
	struct bvec_iter it;
	struct bio_vec bv, *bvecs;
	struct iov_iter iter;
	unsigned int nr = 0;
	int ret;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		break;
	case REQ_OP_FLUSH:
		/* Nothing is cached on the way; the storage needs no flush. */
		return 0;
	default:
		return -EOPNOTSUPP;
	}
	if (!bio->bi_iter.bi_size)
		return 0;

	bio_for_each_bvec(bv, bio, it)
		nr++;
	bvecs = kmalloc_array(nr, sizeof(*bvecs), GFP_KERNEL);
	if (!bvecs)
		return -ENOMEM;
	nr = 0;
	bio_for_each_bvec(bv, bio, it)
		bvecs[nr++] = bv;
	iov_iter_bvec(&iter, write ? ITER_SOURCE : ITER_DEST, bvecs, nr,
		      bio->bi_iter.bi_size);

	ret = blksnap_diff_area_image_rw(image->diff_area, bio->bi_iter.bi_sector,
					 &iter, write);
	kfree(bvecs);
	if (!ret)
		blksnap_diff_storage_hide(image->diff_area->snapshot->storage,
					  image->diff_area->orig_bdev, bio);
	return ret;
}

static void snapimage_work(struct work_struct *work)
{
	struct snapimage_worker *worker =
		container_of(work, struct snapimage_worker, work);
	struct snapimage *image = worker->image;
	unsigned int flags = blksnap_diff_area_worker_enter();
	struct bio *bio;

	for (;;) {
		bool dead;
		int ret;

		spin_lock_irq(&image->lock);
		bio = bio_list_pop(&image->bios);
		dead = image->dead;
		spin_unlock_irq(&image->lock);
		if (!bio)
			break;

		ret = dead ? -EIO : snapimage_serve(image, bio);
		bio->bi_status = errno_to_blk_status(ret);
		bio_endio(bio);
	}
	blksnap_diff_area_worker_leave(flags);
}

/*
 * Hands a bio (or a piece of one) to the workers.  Also from the
 * completion of a read of the original that raced a copy.
 */
static void snapimage_queue(struct snapimage *image, struct bio *bio)
{
	unsigned long flags;
	unsigned int next;

	spin_lock_irqsave(&image->lock, flags);
	if (image->dead) {
		spin_unlock_irqrestore(&image->lock, flags);
		bio_io_error(bio);
		return;
	}
	bio_list_add(&image->bios, bio);
	next = image->next_worker++ % SNAPIMAGE_WORKERS;
	spin_unlock_irqrestore(&image->lock, flags);
	queue_work(blksnap_snapshot_wq, &image->workers[next].work);
}

/*
 * Reads of chunks nobody changed go straight to the original, and reads of
 * stored chunks straight to the storage, as clones of the image's bio, so
 * any number are in flight at once.  The clone's context sits in front of
 * it (front_pad of snapimage_bioset).
 */
struct snapimage_clone {
	struct snapimage *image;
	struct bio *piece;
	unsigned long nr;
	bool stored;
	struct bio bio;
};

static struct bio_set snapimage_bioset;

/*
 * The rule of module/README.md, "Image reads racing a copy": if the chunk
 * left LOADING meanwhile, a write may have changed what was read from the
 * original, and the piece is served again, from the saved copy, by a
 * worker.  A stored chunk's slot never changes: its read stands.
 */
static void snapimage_clone_end_io(struct bio *bio)
{
	struct snapimage_clone *clone =
		container_of(bio, struct snapimage_clone, bio);
	struct snapimage *image = clone->image;
	struct diff_area *da = image->diff_area;
	struct bio *piece = clone->piece;
	blk_status_t status = bio->bi_status;
	bool stored = clone->stored;
	bool valid = status || stored ||
		     blksnap_diff_area_image_original(da, clone->nr, true);

	bio_put(bio);
	if (valid && !status)
		blksnap_diff_storage_hide(da->snapshot->storage, da->orig_bdev,
					  piece);
	if (stored)
		blksnap_diff_area_image_stored_end(da);
	if (valid) {
		piece->bi_status = status;
		bio_endio(piece);
	} else {
		snapimage_queue(image, piece);
	}
}

/*
 * Serves the first chunk's worth of a read and sends the rest around
 * again (the usual way to split in ->submit_bio: bios allocated here from
 * one pool are only dispatched once it returns).  The piece goes to the
 * original if its chunk was not saved, to the storage if it was stored,
 * and to a worker otherwise (a chunk in memory, or one the storage cannot
 * read with one bio).
 */
static void snapimage_read(struct snapimage *image, struct bio *bio)
{
	struct diff_area *da = image->diff_area;
	gfp_t gfp = bio->bi_opf & REQ_NOWAIT ? GFP_NOWAIT : GFP_NOIO;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned long nr = sector >> da->chunk_shift;
	sector_t start = (sector_t)nr << da->chunk_shift;
	sector_t end = min_t(sector_t, start + (1U << da->chunk_shift),
			     da->capacity);
	struct snapimage_clone *clone;
	struct block_device *target;
	struct bio *clone_bio;
	sector_t where;
	bool stored;

	if (!bio_sectors(bio) || sector >= da->capacity) {
		snapimage_queue(image, bio);
		return;
	}
	if (bio_end_sector(bio) > end) {
		struct bio *split = bio_split(bio, end - sector, gfp,
					      &snapimage_bioset);

		if (!split) {
			bio_wouldblock_error(bio);
			return;
		}
		bio_chain(split, bio);
		submit_bio_noacct(bio);
		bio = split;
	}
	if (blksnap_diff_area_image_original(da, nr, false)) {
		target = da->orig_bdev;
		where = sector;
		stored = false;
	} else if (blksnap_diff_area_image_stored(da, nr, sector - start,
						  bio_sectors(bio), &target,
						  &where)) {
		stored = true;
	} else {
		snapimage_queue(image, bio);
		return;
	}
	clone_bio = blksnap_bio_alloc_clone(target, bio, gfp,
					    &snapimage_bioset);
	if (!clone_bio) {
		if (stored)
			blksnap_diff_area_image_stored_end(da);
		bio_wouldblock_error(bio);
		return;
	}
	clone = container_of(clone_bio, struct snapimage_clone, bio);
	clone->image = image;
	clone->piece = bio;
	clone->nr = nr;
	clone->stored = stored;
	clone_bio->bi_iter.bi_sector = where;
	clone_bio->bi_end_io = snapimage_clone_end_io;
	submit_bio_noacct(clone_bio);
}

static void snapimage_route_bio(struct bio *bio)
{
	struct snapimage *image = blksnap_bio_disk(bio)->private_data;

	if (bio_op(bio) == REQ_OP_READ && !READ_ONCE(image->dead))
		snapimage_read(image, bio);
	else
		snapimage_queue(image, bio);
}

#ifdef BLKSNAP_HAVE_VOID_SUBMIT_BIO
static void snapimage_submit_bio(struct bio *bio)
{
	snapimage_route_bio(bio);
}
#else
/* Before 5.16: completions come from workers and clones, never polled. */
static blk_qc_t snapimage_submit_bio(struct bio *bio)
{
	snapimage_route_bio(bio);
	return BLK_QC_T_NONE;
}
#endif

static const struct block_device_operations snapimage_fops = {
	.owner = THIS_MODULE,
	.submit_bio = snapimage_submit_bio,
#ifdef BLKSNAP_HAVE_FREE_DISK
	.free_disk = snapimage_free_disk,
#else
	.open = snapimage_open,
	.release = snapimage_release,
#endif
};

/**
 * blksnap_snapimage_create() - show a taken device as a new block device
 * @diff_area:	the copy-on-write state of the device; a reference is taken
 *
 * Return: the image or an ERR_PTR.
 */
struct snapimage *blksnap_snapimage_create(struct diff_area *diff_area)
{
	struct block_device *orig = diff_area->orig_bdev;
	struct snapimage *image;
	struct gendisk *disk;
	int minor, ret, i;

	image = kzalloc(sizeof(*image), GFP_KERNEL);
	if (!image)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&image->lock);
	bio_list_init(&image->bios);
	for (i = 0; i < SNAPIMAGE_WORKERS; i++) {
		image->workers[i].image = image;
		INIT_WORK(&image->workers[i].work, snapimage_work);
	}

	minor = ida_alloc_max(&snapimage_minors, MINORMASK, GFP_KERNEL);
	if (minor < 0) {
		ret = minor;
		goto fail_image;
	}

	disk = blksnap_alloc_disk_like(orig);
	if (!disk) {
		ret = -ENOMEM;
		goto fail_minor;
	}
	disk->major = snapimage_major;
	disk->first_minor = minor;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &snapimage_fops;
	disk->private_data = image;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "blksnap-%d-%d",
		 MAJOR(diff_area->dev_id), MINOR(diff_area->dev_id));
	set_capacity(disk, diff_area->capacity);
	image->disk = disk;
	image->diff_area = diff_area;
	diff_area_get(diff_area);
#ifndef BLKSNAP_HAVE_FREE_DISK
	atomic_set(&image->refs, 1);
#endif

	ret = blksnap_add_disk(disk);
	if (ret) {
		/* Not added, so free_disk will not run: undo by hand. */
		diff_area_put(diff_area);
		put_disk(disk);
		goto fail_minor;
	}
	atomic_inc(&snapimage_count);
	pr_debug("image %s created\n", disk->disk_name);
	return image;

fail_minor:
	ida_free(&snapimage_minors, minor);
fail_image:
	kfree(image);
	return ERR_PTR(ret);
}

/**
 * blksnap_snapimage_destroy() - remove the image of a destroyed snapshot
 * @image:	the image
 *
 * I/O still queued or submitted later fails; a filesystem mounted on the
 * image sees errors until it is unmounted, and the disk is freed with its
 * last opener.
 */
void blksnap_snapimage_destroy(struct snapimage *image)
{
	struct gendisk *disk = image->disk;
	int i;

	spin_lock_irq(&image->lock);
	image->dead = true;
	spin_unlock_irq(&image->lock);

	del_gendisk(disk);
	/*
	 * Nothing new enters a deleted disk; finish what was queued.  A read
	 * of the original still in flight that raced a copy finds the image
	 * dead and fails.
	 */
	for (i = 0; i < SNAPIMAGE_WORKERS; i++)
		flush_work(&image->workers[i].work);
	blksnap_cleanup_disk(disk);
#ifndef BLKSNAP_HAVE_FREE_DISK
	snapimage_put(image);
#endif
	put_disk(disk);
}

int blksnap_snapimage_init(void)
{
	int ret;

	ret = bioset_init(&snapimage_bioset, 64,
			  offsetof(struct snapimage_clone, bio),
			  BIOSET_NEED_RESCUER);
	if (ret)
		return ret;
	snapimage_major = register_blkdev(0, "blksnap-image");
	if (snapimage_major < 0) {
		bioset_exit(&snapimage_bioset);
		return snapimage_major;
	}
	return 0;
}

void blksnap_snapimage_done(void)
{
	wait_event(snapimage_freed, !atomic_read(&snapimage_count));
	unregister_blkdev(snapimage_major, "blksnap-image");
	ida_destroy(&snapimage_minors);
	bioset_exit(&snapimage_bioset);
}
