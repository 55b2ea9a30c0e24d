// SPDX-License-Identifier: GPL-2.0
/*
 * The difference storage holds the original content of every chunk that
 * changed after the snapshot was taken.  Its kinds (enum diff_storage_kind):
 *
 *  - a whole block device: fixed size;
 *  - a regular file, or an unnamed file made in a directory, on another
 *    disk than the snapshotted devices: reached through the VFS, so it may
 *    live on any filesystem (tmpfs included) and the filesystem stays in
 *    charge of its blocks.  Stores are asynchronous direct writes where
 *    the file takes them; other writes are pushed out of the page cache
 *    and waited for, so that a failing storage is seen by the chunk it
 *    fails, not lost in a background writeback.  It starts small and grows with
 *    fallocate() in steps of diff_storage_minimum sectors whenever its
 *    free space falls below half a step, until the limit;
 *  - the same file once a device it lives on joins the snapshot: the VFS
 *    must then keep out of it (storage_extents.c), so it is allocated up
 *    to the limit, pinned and written with bios to its sectors.
 *
 * Block device and pinned file storage are reached with bios only, never
 * through the block device's page cache: asynchronously by
 * blksnap_diff_storage_submit(), synchronously by blksnap_diff_storage_rw().
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-storage: " fmt

#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/blksnap.h>
#include "compat.h"
#include "diff_storage.h"
#include "event_queue.h"
#include "compat.h"
#include "diff_area.h"
#include "snapshot.h"
#include "stack.h"
#include "storage_extents.h"

/* A step of more than 1 TiB would be one fallocate nobody waits out. */
#define DIFF_STORAGE_STEP_HIGHEST	BIT(31)

static int diff_storage_minimum_set(const char *val,
				    const struct kernel_param *kp)
{
	unsigned long step;
	int ret;

	ret = kstrtoul(val, 0, &step);
	if (ret)
		return ret;
	if (step < PAGE_SECTORS || step > DIFF_STORAGE_STEP_HIGHEST)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, step);
	return 0;
}

static const struct kernel_param_ops diff_storage_minimum_ops = {
	.set = diff_storage_minimum_set,
	.get = param_get_ulong,
};

static unsigned long diff_storage_minimum = 2097152;
module_param_cb(diff_storage_minimum, &diff_storage_minimum_ops,
		&diff_storage_minimum, 0644);
MODULE_PARM_DESC(diff_storage_minimum,
		 "Sectors a difference storage file grows by at a time (8..2^31)");

static sector_t diff_storage_step(void)
{
	/* A step below one page would grow the file forever in crumbs. */
	return max_t(sector_t, READ_ONCE(diff_storage_minimum), PAGE_SECTORS);
}

static void diff_storage_no_space(struct diff_storage *ds, sector_t wanted)
{
	struct blksnap_event_no_space data = { .requested_nr_sect = wanted };

	if (ds->no_space_sent)
		return;
	ds->no_space_sent = true;
	pr_warn("difference storage cannot grow beyond %llu sectors\n",
		(unsigned long long)ds->capacity);
	blksnap_event_gen(ds->events, blksnap_event_code_no_space, &data, sizeof(data));
}

/* Called with ds->lock held. */
static int diff_storage_grow(struct diff_storage *ds)
{
	sector_t step = min_t(sector_t, diff_storage_step(),
			      ds->limit - ds->capacity);
	int ret;

	if (!step) {
		diff_storage_no_space(ds, diff_storage_step());
		return -ENOSPC;
	}
	ret = vfs_fallocate(ds->file, 0, (loff_t)ds->capacity << SECTOR_SHIFT,
			    (loff_t)step << SECTOR_SHIFT);
	if (ret) {
		pr_err("growing the difference storage failed: %d\n", ret);
		if (ret == -ENOSPC)
			diff_storage_no_space(ds, step);
		return ret;
	}
	ds->capacity += step;
	pr_debug("difference storage grown to %llu sectors\n",
		 (unsigned long long)ds->capacity);
	return 0;
}

/* Slots start on a logical block of the storage: bios need that. */
static sector_t diff_storage_round(struct diff_storage *ds, sector_t count)
{
	return round_up(count, ds->logical_block);
}

/**
 * blksnap_diff_storage_alloc() - reserve room for one chunk
 * @ds:		the storage
 * @count:	sectors wanted; rounded up to the storage's logical block
 * @offset:	out: first reserved sector, on a logical block
 *
 * Runs in the storing worker, never in the path of a write to an original
 * device, because growing a file may take filesystem locks and time.
 *
 * Return: 0, or a negative errno that makes the snapshot corrupted.
 */
int blksnap_diff_storage_alloc(struct diff_storage *ds, sector_t count,
			       sector_t *offset)
{
	bool growable = ds->kind == DIFF_STORAGE_FILE;
	int ret = 0;

	count = diff_storage_round(ds, count);
	down_read(&ds->file_lock);
	mutex_lock(&ds->lock);
	ret = diff_storage_error(ds);
	if (!ret && !ds->file)
		ret = -ESHUTDOWN;
	if (ret)
		goto out;
	while (ds->capacity - ds->filled < count) {
		ret = growable ? diff_storage_grow(ds) : -ENOSPC;
		if (ret) {
			if (!growable)
				diff_storage_no_space(ds, count);
			diff_storage_fail(ds, ret);
			goto out;
		}
	}
	*offset = ds->filled;
	ds->filled += count;

	/*
	 * Grow ahead of need, so that most chunks find room without
	 * waiting for fallocate.  A failure here is not fatal yet: the
	 * space already there may be enough for the rest of the backup.
	 */
	if (growable && ds->capacity < ds->limit &&
	    ds->capacity - ds->filled < diff_storage_step() / 2)
		diff_storage_grow(ds);
out:
	mutex_unlock(&ds->lock);
	up_read(&ds->file_lock);
	return ret;
}

static int diff_storage_file_rw(struct diff_storage *ds, sector_t offset,
				struct iov_iter *iter, bool write)
{
	loff_t pos = (loff_t)offset << SECTOR_SHIFT;
	size_t count = iov_iter_count(iter);
	ssize_t done;

	if (write) {
		loff_t start = pos;

		file_start_write(ds->file);
		done = vfs_iter_write(ds->file, iter, &pos, 0);
		file_end_write(ds->file);
		if (done < 0)
			return done;
		if (done != count)
			return -EIO;
		/*
		 * The write only reached the page cache.  Push it out and wait,
		 * so that a storage device that fails is noticed now, by this
		 * chunk, and not silently by a writeback nobody checks.
		 */
		return filemap_write_and_wait_range(ds->file->f_mapping, start,
						    pos - 1);
	}
	done = vfs_iter_read(ds->file, iter, &pos, 0);
	if (done < 0)
		return done;
	return done == count ? 0 : -EIO;
}

/* Our own bio pool: stores run while writes to the originals wait. */
static struct bio_set diff_storage_bioset;

/**
 * struct diff_storage_io - one asynchronous request to the storage
 * @ds:		the storage; in_flight counts this request
 * @pending:	bios not yet ended, plus one while they are being built
 * @error:	first error of any part
 * @end_io:	the caller's completion
 * @private:	its argument
 * @work:	VFS I/O of a file storage runs here
 * @offset:	for @work: first sector
 * @iter:	for @work: the data
 * @iocb:	a direct write of a file storage
 * @bytes:	for @iocb: its length
 */
struct diff_storage_io {
	struct diff_storage *ds;
	atomic_t pending;
	int error;
	void (*end_io)(void *private, int error);
	void *private;
	struct work_struct work;
	sector_t offset;
	struct iov_iter iter;
#ifdef BLKSNAP_HAVE_DIRECT_AIO
	struct kiocb iocb;
	size_t bytes;
#endif
};

/*
 * The caller's completion comes last and the storage is not touched after
 * it: end_io may drop the last reference to the snapshot.  The in-flight
 * count drops under its wait queue's lock, which release takes once more
 * after its wait, so the wake-up never touches a freed storage.
 */
static void diff_storage_io_put(struct diff_storage_io *io)
{
	struct diff_storage *ds = io->ds;
	void (*end_io)(void *private, int error) = io->end_io;
	void *private = io->private;
	int error = io->error;
	unsigned long flags;

	if (!atomic_dec_and_test(&io->pending))
		return;
	kfree(io);
	spin_lock_irqsave(&ds->in_flight_wq.lock, flags);
	if (atomic_dec_and_test(&ds->in_flight))
		wake_up_locked(&ds->in_flight_wq);
	spin_unlock_irqrestore(&ds->in_flight_wq.lock, flags);
	end_io(private, error);
}

static void diff_storage_bio_end(struct bio *bio)
{
	struct diff_storage_io *io = bio->bi_private;
	int error = blk_status_to_errno(bio->bi_status);

	if (error)
		cmpxchg(&io->error, 0, error);
	bio_put(bio);
	diff_storage_io_put(io);
}

/*
 * Bios for @iter from storage sector @offset on, split where the pinned
 * file's extents end and at BIO_MAX_VECS pages.  Submitted from module
 * text: the filter lets them pass, so they are never copied-on-write and
 * never marked in a CBT map, even on a device of the snapshot.  Called
 * with ds->file_lock held for reading and the file still there.
 */
static int diff_storage_bios(struct diff_storage *ds, sector_t offset,
			     struct iov_iter *iter, blksnap_req_op_t op,
			     struct diff_storage_io *io)
{
	while (iov_iter_count(iter)) {
		size_t len = min_t(size_t, iov_iter_count(iter),
				   (BIO_MAX_VECS - 1) * PAGE_SIZE);
		struct iov_iter piece;
		sector_t sector, run;
		struct bio *bio;
		int ret;

		if (offset >= ds->capacity)
			return -EIO;
		if (ds->kind == DIFF_STORAGE_EXTENTS) {
			sector = blksnap_storage_extents_lookup(ds->extents,
								offset, &run);
			if (!run)
				return -EIO;
		} else {
			sector = offset;
			run = ds->capacity - offset;
		}
		len = min_t(u64, len, (u64)run << SECTOR_SHIFT);
		piece = *iter;
		iov_iter_truncate(&piece, len);
		bio = blksnap_bio_alloc_bioset(ds->bdev,
					       blksnap_bvec_iter_npages(&piece),
					       op | REQ_SYNC, GFP_NOIO,
					       &diff_storage_bioset);
		bio->bi_iter.bi_sector = sector;
		ret = blksnap_bio_add_bvec_iter(bio, &piece);
		if (ret) {
			bio_put(bio);
			return ret;
		}
		bio->bi_end_io = diff_storage_bio_end;
		bio->bi_private = io;
		atomic_inc(&io->pending);
		submit_bio_noacct(bio);
		iov_iter_advance(iter, len);
		offset += len >> SECTOR_SHIFT;
	}
	return 0;
}

static void diff_storage_file_work(struct work_struct *work)
{
	struct diff_storage_io *io = container_of(work, struct diff_storage_io,
						  work);
	struct diff_storage *ds = io->ds;
	unsigned int flags = blksnap_diff_area_worker_enter();
	int ret = -ESHUTDOWN;

	down_read(&ds->file_lock);
	if (ds->file)
		ret = diff_storage_file_rw(ds, io->offset, &io->iter,
					   iov_iter_rw(&io->iter) == WRITE);
	up_read(&ds->file_lock);
	io->error = ret;
	blksnap_diff_area_worker_leave(flags);
	diff_storage_io_put(io);
}

#ifdef BLKSNAP_HAVE_DIRECT_AIO
static void diff_storage_direct_end(struct kiocb *iocb, long ret)
{
	struct diff_storage_io *io = container_of(iocb, struct diff_storage_io,
						  iocb);

	if (ret >= 0 && ret != io->bytes)
		ret = -EIO;
	if (ret < 0)
		cmpxchg(&io->error, 0, (int)ret);
	diff_storage_io_put(io);
}

/*
 * A store to a file as one asynchronous direct write, like the loop
 * driver's: from the chunk's pages to the filesystem's blocks, no page
 * cache, no writeback to wait for.  Slots and lengths are on logical
 * blocks of the file's device, what direct I/O needs.  The filesystem is
 * another than the snapshot's (else the storage would be pinned), so it
 * is never frozen by a take.  A filesystem that refuses (EINVAL, ENOTBLK)
 * makes this storage write through the page cache from then on.
 *
 * Return: true if @io was started (its end comes from the filesystem).
 */
static bool diff_storage_direct(struct diff_storage *ds,
				struct diff_storage_io *io)
{
	struct kiocb *iocb = &io->iocb;
	ssize_t ret;

	memset(iocb, 0, sizeof(*iocb));
	iocb->ki_filp = ds->file;
	iocb->ki_pos = (loff_t)io->offset << SECTOR_SHIFT;
	iocb->ki_flags = IOCB_DIRECT | IOCB_WRITE;
	iocb->ki_complete = diff_storage_direct_end;
	io->bytes = iov_iter_count(&io->iter);
	atomic_inc(&io->pending);
	ret = ds->file->f_op->write_iter(iocb, &io->iter);
	if (ret == -EIOCBQUEUED)
		return true;
	if (ret == -EINVAL || ret == -ENOTBLK) {
		pr_warn("%pD refuses direct I/O (%zd): stores go through the page cache\n",
			ds->file, ret);
		WRITE_ONCE(ds->direct, false);
		atomic_dec(&io->pending);
		return false;
	}
	/* Done already: written through (tmpfs) or failed. */
	diff_storage_direct_end(iocb, ret);
	return true;
}
#else
static bool diff_storage_direct(struct diff_storage *ds,
				struct diff_storage_io *io)
{
	return false;
}
#endif

/* Starts @io; called with ds->file_lock held for reading. */
static int diff_storage_start(struct diff_storage *ds, sector_t offset,
			      struct iov_iter *iter, blksnap_req_op_t op,
			      struct diff_storage_io *io)
{
	int ret;

	if (!ds->file)
		return -ESHUTDOWN;
	io->ds = ds;
	atomic_set(&io->pending, 1);
	io->error = 0;
	atomic_inc(&ds->in_flight);
	if (ds->kind == DIFF_STORAGE_FILE) {
		io->offset = offset;
		io->iter = *iter;
		if (op == REQ_OP_WRITE && READ_ONCE(ds->direct) &&
		    diff_storage_direct(ds, io)) {
			diff_storage_io_put(io);
			return 0;
		}
		INIT_WORK(&io->work, diff_storage_file_work);
		queue_work(blksnap_snapshot_wq, &io->work);
		return 0;
	}
	ret = diff_storage_bios(ds, offset, iter, op, io);
	if (ret)
		cmpxchg(&io->error, 0, ret);
	diff_storage_io_put(io);
	return 0;
}

/**
 * blksnap_diff_storage_map() - may a read of the storage go out as one bio?
 * @ds:		the storage
 * @offset:	first sector of the storage
 * @sectors:	length
 * @bdev:	out: where the bio goes
 * @sector:	out: its first sector there
 *
 * Yes for a block device or pinned file when the range is whole logical
 * blocks of the storage inside one extent and the storage is not
 * released.  Then an in-flight count is taken, which the caller drops with
 * blksnap_diff_storage_unmap() once the bio has ended, so that release
 * waits for it.  Takes no lock it would wait for: for ->submit_bio.
 *
 * Return: true if so; otherwise use blksnap_diff_storage_rw().
 */
bool blksnap_diff_storage_map(struct diff_storage *ds, sector_t offset,
			      unsigned int sectors, struct block_device **bdev,
			      sector_t *sector)
{
	bool ok = false;
	sector_t run;

	if (ds->kind == DIFF_STORAGE_FILE || !down_read_trylock(&ds->file_lock))
		return false;
	if (!ds->file || !sectors ||
	    ((offset | sectors) & (ds->logical_block - 1)) ||
	    offset + sectors > ds->capacity)
		goto out;
	if (ds->kind == DIFF_STORAGE_EXTENTS) {
		*sector = blksnap_storage_extents_lookup(ds->extents, offset,
							 &run);
		if (run < sectors)
			goto out;
	} else {
		*sector = offset;
	}
	*bdev = ds->bdev;
	atomic_inc(&ds->in_flight);
	ok = true;
out:
	up_read(&ds->file_lock);
	return ok;
}

/* The bio of blksnap_diff_storage_map() ended; any context. */
void blksnap_diff_storage_unmap(struct diff_storage *ds)
{
	unsigned long flags;

	/* As in diff_storage_io_put(): release syncs on this lock. */
	spin_lock_irqsave(&ds->in_flight_wq.lock, flags);
	if (atomic_dec_and_test(&ds->in_flight))
		wake_up_locked(&ds->in_flight_wq);
	spin_unlock_irqrestore(&ds->in_flight_wq.lock, flags);
}

/**
 * blksnap_diff_storage_submit() - asynchronous I/O of the storage
 * @ds:		the storage
 * @offset:	first sector, as blksnap_diff_storage_alloc() handed out
 * @bv:		the pages; the caller keeps them (and the array) until
 *		@end_io
 * @nr:		entries in @bv
 * @op:		REQ_OP_READ or REQ_OP_WRITE
 * @end_io:	called once with 0 or a negative errno when all is done:
 *		from the completion of the last bio (which may be interrupt
 *		context) for block device and pinned file storage, from a
 *		worker for a file reached through the VFS
 * @private:	passed to @end_io
 *
 * Block device and pinned file storage are read and written with bios
 * straight to their sectors (no page cache), split at the file's extent
 * borders; a file on another filesystem goes through the VFS in a worker.
 * @offset and the total length must be multiples of the storage's logical
 * block (slots are).  May sleep (bios come from a mempool, GFP_NOIO).
 *
 * Return: 0 if @end_io will be called (perhaps before this returns), or
 * a negative errno and @end_io is not called: -EINVAL for a bad request,
 * -ESHUTDOWN once the storage is released, -ENOMEM.
 */
int blksnap_diff_storage_submit(struct diff_storage *ds, sector_t offset,
				struct bio_vec *bv, unsigned int nr,
				blksnap_req_op_t op,
				void (*end_io)(void *private, int error),
				void *private)
{
	struct diff_storage_io *io;
	struct iov_iter iter;
	size_t bytes = 0;
	unsigned int i;
	int ret;

	if (op != REQ_OP_READ && op != REQ_OP_WRITE)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		bytes += bv[i].bv_len;
	if (!bytes || (bytes | ((u64)offset << SECTOR_SHIFT)) &
		      ((ds->logical_block << SECTOR_SHIFT) - 1))
		return -EINVAL;
	io = kmalloc(sizeof(*io), GFP_NOIO);
	if (!io)
		return -ENOMEM;
	io->end_io = end_io;
	io->private = private;
	iov_iter_bvec(&iter, op == REQ_OP_WRITE ? ITER_SOURCE : ITER_DEST, bv,
		      nr, bytes);
	down_read(&ds->file_lock);
	ret = diff_storage_start(ds, offset, &iter, op, io);
	up_read(&ds->file_lock);
	if (ret)
		kfree(io);
	return ret;
}

struct diff_storage_wait {
	struct completion done;
	int error;
};

static void diff_storage_wait_end(void *private, int error)
{
	struct diff_storage_wait *wait = private;

	wait->error = error;
	complete(&wait->done);
}

/*
 * Synchronous bio I/O of a block device or pinned file; ds->file_lock
 * held for reading.
 */
static int diff_storage_bio_rw(struct diff_storage *ds, sector_t offset,
			       struct iov_iter *iter, bool write)
{
	struct diff_storage_wait wait = { .error = 0 };
	struct diff_storage_io *io;
	int ret;

	io = kmalloc(sizeof(*io), GFP_NOIO);
	if (!io)
		return -ENOMEM;
	init_completion(&wait.done);
	io->end_io = diff_storage_wait_end;
	io->private = &wait;
	ret = diff_storage_start(ds, offset, iter,
				 write ? REQ_OP_WRITE : REQ_OP_READ, io);
	if (ret) {
		kfree(io);
		return ret;
	}
	wait_for_completion_io(&wait.done);
	return wait.error;
}

/* Bios need whole logical blocks of the storage; the image's own blocks may be smaller. */
static bool diff_storage_aligned(struct diff_storage *ds, sector_t offset,
				 struct iov_iter *iter)
{
	size_t count = iov_iter_count(iter);

	return !(count & (SECTOR_SIZE - 1)) &&
	       !((offset | (count >> SECTOR_SHIFT)) & (ds->logical_block - 1));
}

/*
 * A piece that starts or ends inside a logical block of the storage (an
 * image whose device has smaller blocks than the storage's): the blocks
 * around it go through pages of our own, read with bios and, for a write,
 * written back whole.  They lie inside the chunk's slot (slots are aligned
 * to logical blocks), which the caller's chunk lock keeps to itself.
 * ds->file_lock held for reading.
 */
static int diff_storage_bounce_rw(struct diff_storage *ds, sector_t offset,
				  struct iov_iter *iter, bool write)
{
	sector_t first = round_down(offset, ds->logical_block);
	size_t skip = (size_t)(offset - first) << SECTOR_SHIFT;
	size_t end = skip + iov_iter_count(iter);
	size_t len = round_up(end, (size_t)ds->logical_block << SECTOR_SHIFT);
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE);
	struct iov_iter bounce;
	struct bio_vec *bv;
	unsigned int i;
	size_t pos, n;
	int ret = -ENOMEM;

	bv = kcalloc(nr, sizeof(*bv), GFP_NOIO);
	if (!bv)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct page *page = alloc_page(GFP_NOIO);

		if (!page)
			goto out;
		bvec_set_page(&bv[i], page,
			      min_t(size_t, PAGE_SIZE, len - (size_t)i * PAGE_SIZE),
			      0);
	}
	iov_iter_bvec(&bounce, ITER_DEST, bv, nr, len);
	ret = diff_storage_bio_rw(ds, first, &bounce, false);
	if (ret)
		goto out;
	for (pos = skip; pos < end; pos += n) {
		struct page *page = bv[pos >> PAGE_SHIFT].bv_page;
		unsigned int off = offset_in_page(pos);

		n = min_t(size_t, PAGE_SIZE - off, end - pos);
		if ((write ? copy_page_from_iter(page, off, n, iter) :
			     copy_page_to_iter(page, off, n, iter)) != n) {
			ret = -EFAULT;
			goto out;
		}
	}
	if (write) {
		iov_iter_bvec(&bounce, ITER_SOURCE, bv, nr, len);
		ret = diff_storage_bio_rw(ds, first, &bounce, true);
	}
out:
	for (i = 0; i < nr; i++)
		if (bv[i].bv_page)
			__free_page(bv[i].bv_page);
	kfree(bv);
	return ret;
}

/**
 * blksnap_diff_storage_rw() - move chunk data between memory and the storage
 * @ds:		the storage
 * @offset:	sector of the storage where @iter starts
 * @iter:	the data; fully consumed on success
 * @write:	direction
 *
 * A block device or a pinned file is read and written with bios, as its
 * stores are, never through the block device's page cache: stores do not
 * pass there, so a page cached there (by the read-ahead of an earlier
 * read, or by anyone else who opened the device) would be stale.  A file
 * on another filesystem goes through the VFS.  Synchronous; may sleep.
 *
 * Return: 0 or a negative errno; -ESHUTDOWN once the snapshot was
 * destroyed and the file released.
 */
int blksnap_diff_storage_rw(struct diff_storage *ds, sector_t offset,
			    struct iov_iter *iter, bool write)
{
	int ret;

	down_read(&ds->file_lock);
	if (!ds->file)
		ret = -ESHUTDOWN;
	else if (ds->kind == DIFF_STORAGE_FILE)
		ret = diff_storage_file_rw(ds, offset, iter, write);
	else if (diff_storage_aligned(ds, offset, iter))
		ret = diff_storage_bio_rw(ds, offset, iter, write);
	else
		ret = diff_storage_bounce_rw(ds, offset, iter, write);
	up_read(&ds->file_lock);
	return ret;
}

/*
 * A device of the snapshot holds the storage file's filesystem: from now
 * on the storage is the file's pinned extents, up to the limit.  Before
 * the take, so no chunk is stored yet, and under snapshots_lock.
 */
static int diff_storage_pin(struct diff_storage *ds)
{
	struct storage_extents *se;
	int ret = 0;

	down_write(&ds->file_lock);
	mutex_lock(&ds->lock);
	if (!ds->file) {
		ret = -ESHUTDOWN;
		goto out;
	}
	se = blksnap_storage_extents_pin(ds->file, ds->limit);
	if (IS_ERR(se)) {
		ret = PTR_ERR(se);
		pr_err("%pD cannot be pinned as storage on its own filesystem: %d\n",
		       ds->file, ret);
		goto out;
	}
	ds->extents = se;
	ds->bdev = file_inode(ds->file)->i_sb->s_bdev;
	ds->capacity = round_down(min(se->sectors, ds->limit),
				  ds->logical_block);
	ds->limit = ds->capacity;
	ds->kind = DIFF_STORAGE_EXTENTS;
	pr_debug("%pD pinned: %u extents, %llu sectors\n", ds->file, se->nr,
		 (unsigned long long)ds->capacity);
out:
	mutex_unlock(&ds->lock);
	up_write(&ds->file_lock);
	return ret;
}

/**
 * blksnap_diff_storage_admit() - may a device join the storage's snapshot
 * @ds:		the storage
 * @bdev:	the device being added
 *
 * Storage writes must not land on a device of the snapshot through the
 * VFS or a stack of devices, or copy-on-write would feed on its own
 * stores.  A device that is the storage's own device, its disk or a
 * partition of it:
 *  - a block device storage: refused;
 *  - a file (named or unnamed): the file becomes the pinned-extents kind,
 *    whose bios bypass the filter.
 * A device under the storage's device (the backing file's device of a
 * loop device, the members of a dm or md device, and so on down, stack.c)
 * is refused: those writes would come back as the stacking driver's own.
 * An unreadable stack counts as the storage's device only.
 *
 * Return: 0; -EPERM if storage writes would reach @bdev; for a file the
 * errors of blksnap_storage_extents_pin() (-EOPNOTSUPP, -ETXTBSY,
 * -ENOSPC, ...); -ENOMEM.
 */
int blksnap_diff_storage_admit(struct diff_storage *ds,
			       struct block_device *bdev)
{
	dev_t dev = bdev->bd_dev, whole = blksnap_bdev_whole_devt(bdev);
	struct blksnap_stack *stack;
	bool holds;

	if (!ds->dev_id)
		return 0;
	if (dev == ds->dev_id || dev == ds->whole_id || whole == ds->dev_id) {
		switch (ds->kind) {
		case DIFF_STORAGE_BDEV:
			return -EPERM;
		case DIFF_STORAGE_FILE:
			return diff_storage_pin(ds);
		case DIFF_STORAGE_EXTENTS:
			return 0;
		}
	}
	stack = kmalloc(sizeof(*stack), GFP_KERNEL);
	if (!stack)
		return -ENOMEM;
	blksnap_stack_build(stack, ds->dev_id);
	holds = blksnap_stack_reaches(stack, 0, dev, whole);
	kfree(stack);
	return holds ? -EPERM : 0;
}

/**
 * blksnap_diff_storage_hide() - show the storage file in an image as at take
 * @ds:		the storage
 * @orig:	the original device of the image
 * @bio:	a read of the image that succeeded, its iterator untouched
 *
 * Zeroes what the read returned of a pinned file's sectors: they hold
 * stored chunks now, not what the filesystem saw at the take (unwritten
 * extents, read as zeros).
 */
void blksnap_diff_storage_hide(struct diff_storage *ds,
			       struct block_device *orig, struct bio *bio)
{
	/* Set before the take, under snapshots_lock; an image comes later. */
	if (ds->kind != DIFF_STORAGE_EXTENTS || bio_op(bio) != REQ_OP_READ ||
	    blksnap_bdev_whole_devt(orig) != ds->whole_id)
		return;
	blksnap_storage_extents_zero(ds->extents, blksnap_bdev_start_sect(orig),
				     bio);
}

static struct file *diff_storage_open_file(const char *path, umode_t *mode)
{
	struct path p;
	int ret;

	/*
	 * Look before opening: opening a FIFO would block and opening a
	 * character device could have side effects.
	 */
	ret = kern_path(path, LOOKUP_FOLLOW, &p);
	if (ret)
		return ERR_PTR(ret);
	*mode = d_inode(p.dentry)->i_mode;
	path_put(&p);

	if (S_ISDIR(*mode))
		return filp_open(path, O_RDWR | O_TMPFILE | O_LARGEFILE, 0600);
	if (S_ISREG(*mode))
		return filp_open(path, O_RDWR | O_LARGEFILE, 0);
	if (S_ISBLK(*mode))
		/* O_EXCL makes the open exclusive, so nobody mounts it. */
		return filp_open(path, O_RDWR | O_LARGEFILE | O_EXCL, 0);
	return ERR_PTR(-EINVAL);
}

/**
 * blksnap_diff_storage_open() - open the difference storage of a new snapshot
 * @path:	regular file, directory or block device
 * @limit:	most sectors to use; 0 only for a block device (all of it)
 * @events:	where the storage reports running out of space
 *
 * Return: the storage or an ERR_PTR: -EINVAL for another kind of file or
 * a zero limit on a file, -EOPNOTSUPP if the filesystem cannot fallocate,
 * or what the open reported (-EBUSY for a block device in use).
 */
struct diff_storage *blksnap_diff_storage_open(const char *path, sector_t limit,
					       struct event_queue *events)
{
	struct diff_storage *ds;
	struct file *file;
	umode_t mode;
	int ret;

	file = diff_storage_open_file(path, &mode);
	if (IS_ERR(file))
		return ERR_CAST(file);

	/* The name may have been replaced between the look and the open. */
	if ((file_inode(file)->i_mode & S_IFMT) != (mode & S_IFMT) &&
	    !S_ISDIR(mode)) {
		ret = -EINVAL;
		goto fail_file;
	}

	ds = kzalloc(sizeof(*ds), GFP_KERNEL);
	if (!ds) {
		ret = -ENOMEM;
		goto fail_file;
	}
	ds->file = file;
	init_rwsem(&ds->file_lock);
	atomic_set(&ds->in_flight, 0);
	init_waitqueue_head(&ds->in_flight_wq);
	ds->events = events;
	ds->logical_block = 1;
	mutex_init(&ds->lock);

	if (S_ISBLK(mode)) {
		struct block_device *bdev = I_BDEV(file->f_mapping->host);

		ds->kind = DIFF_STORAGE_BDEV;
		ds->bdev = bdev;
		ds->dev_id = bdev->bd_dev;
		ds->whole_id = blksnap_bdev_whole_devt(bdev);
		ds->logical_block = bdev_logical_block_size(bdev) >> SECTOR_SHIFT;
		ds->capacity = bdev_nr_sectors(bdev);
		if (limit && limit < ds->capacity)
			ds->capacity = limit;
		ds->capacity = round_down(ds->capacity, ds->logical_block);
		ds->limit = ds->capacity;
	} else {
		struct super_block *sb = file_inode(file)->i_sb;

		if (!limit) {
			ret = -EINVAL;
			goto fail_ds;
		}
		if (sb->s_bdev) {
			ds->dev_id = sb->s_bdev->bd_dev;
			ds->whole_id = blksnap_bdev_whole_devt(sb->s_bdev);
			ds->logical_block = bdev_logical_block_size(sb->s_bdev) >>
					    SECTOR_SHIFT;
		}
		ds->kind = DIFF_STORAGE_FILE;
		ds->limit = limit;
		/* Direct I/O needs a device's logical blocks to align to. */
		ds->direct = sb->s_bdev && blksnap_file_can_direct(file);
		mutex_lock(&ds->lock);
		ret = diff_storage_grow(ds);
		mutex_unlock(&ds->lock);
		if (ret)
			goto fail_ds;
	}
	pr_debug("opened %s: %llu sectors, limit %llu\n", path,
		 (unsigned long long)ds->capacity,
		 (unsigned long long)ds->limit);
	return ds;

fail_ds:
	kfree(ds);
fail_file:
	fput(file);
	return ERR_PTR(ret);
}

/**
 * blksnap_diff_storage_release_file() - close the file of a destroyed snapshot
 * @ds:		the storage
 *
 * Waits for the I/O in progress; later I/O fails with -ESHUTDOWN.  A
 * pinned file is unpinned.  Called from the DESTROY ioctl (or module
 * exit), a user task: the final fput then runs before the task returns to
 * user space, so an exclusively opened block device is free again and an
 * unnamed file is gone by then.  The structure itself lives on with its
 * last user (an image still open).
 */
void blksnap_diff_storage_release_file(struct diff_storage *ds)
{
	struct file *file;

	down_write(&ds->file_lock);
	file = ds->file;
	ds->file = NULL;
	up_write(&ds->file_lock);
	wait_event(ds->in_flight_wq, !atomic_read(&ds->in_flight));
	/* The last completion may still hold the lock: see io_put. */
	spin_lock_irq(&ds->in_flight_wq.lock);
	spin_unlock_irq(&ds->in_flight_wq.lock);
	if (!file)
		return;
	if (ds->extents)
		blksnap_storage_extents_unpin(ds->extents);
	fput(file);
}

void blksnap_diff_storage_close(struct diff_storage *ds)
{
	blksnap_diff_storage_release_file(ds);
	if (ds->extents)
		blksnap_storage_extents_free(ds->extents);
	kfree(ds);
}

int blksnap_diff_storage_init(void)
{
	return bioset_init(&diff_storage_bioset, 64, 0, BIOSET_NEED_BVECS);
}

void blksnap_diff_storage_done(void)
{
	bioset_exit(&diff_storage_bioset);
}
