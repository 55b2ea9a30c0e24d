/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_COMPAT_H
#define __BLKSNAP_COMPAT_H

/*
 * What the module needs from the kernel, and the shims that let one source
 * build on every kernel it supports: Debian 11's 5.10 to the release
 * candidate of the day (make kernels).  All differences between kernels
 * live here, keyed on features, not version numbers: a macro the
 * preprocessor can see, or a BLKSNAP_HAVE_* that Kbuild defines when the
 * kernel headers declare the interface.  A helper a newer kernel has and
 * an older one lacks keeps the kernel's own name, so that the code reads as
 * it would upstream.
 *
 * Not testable by the preprocessor, so stated: the hooked ioctl entry is a
 * file operation, long (struct file *, unsigned int, unsigned long):
 * blkdev_ioctl() since Linux 5.15, block_ioctl() before (where
 * blkdev_ioctl() takes the block device: BLKSNAP_HAVE_BDEV_BLKDEV_IOCTL);
 * filter.c redirects it.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/highmem.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uio.h>
#ifdef BLKSNAP_HAVE_BLK_INTEGRITY_H
#include <linux/blk-integrity.h>	/* split out of blkdev.h in 5.16 */
#endif

#ifndef BLKSNAP_HAVE_WQ_PERCPU
/*
 * Per-CPU is what a workqueue without WQ_UNBOUND was; newer kernels (and
 * backports, such as Debian's 6.12.118) say it with WQ_PERCPU, and from
 * 7.x a queue naming neither gets a WARNING at creation.
 */
#define WQ_PERCPU 0
#endif

#if !defined(CONFIG_DYNAMIC_FTRACE_WITH_REGS) || !defined(CONFIG_KPROBES)
#error "blksnap needs CONFIG_DYNAMIC_FTRACE_WITH_REGS and CONFIG_KPROBES"
#endif

#ifdef BLKSNAP_HAVE_FTRACE_REGS
/*
 * Setting the resume address from struct ftrace_regs (5.11+; renamed in
 * 6.8).  Without CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS the generic fallback
 * silently does nothing, so that is refused too.
 */
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#error "blksnap needs CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS"
#endif
#define BLKSNAP_FTRACE_REGS ftrace_regs
#if defined(ftrace_regs_set_instruction_pointer)
#define blksnap_ftrace_set_ip(fregs, ip) \
	ftrace_regs_set_instruction_pointer(fregs, ip)
#elif defined(ftrace_instruction_pointer_set)
#define blksnap_ftrace_set_ip(fregs, ip) \
	ftrace_instruction_pointer_set(fregs, ip)
#else
#error "blksnap needs ftrace_regs_set_instruction_pointer()"
#endif

/*
 * FTRACE_OPS_FL_RECURSION asks ftrace to guard the callback against
 * recursion (the meaning since 5.11).
 */
#define BLKSNAP_FTRACE_OPS_FLAGS \
	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
	 FTRACE_OPS_FL_RECURSION)
#else
/*
 * Before 5.11 the callback gets the saved pt_regs, and ftrace guards it
 * against recursion unless it claims FTRACE_OPS_FL_RECURSION_SAFE.
 */
#define BLKSNAP_FTRACE_REGS pt_regs
#define blksnap_ftrace_set_ip(regs, ip) instruction_pointer_set(regs, ip)
#define BLKSNAP_FTRACE_OPS_FLAGS \
	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY)
#endif

#ifndef BLKSNAP_HAVE_BLK_OPF_T	/* a bio's operation and flags, 6.0 */
#define blk_opf_t unsigned int
#endif

/*
 * A bio's operation alone: enum req_opf before 6.0.  Not shimmed under the
 * kernel's name, since req_op() is also a macro of the request API there.
 */
#ifdef BLKSNAP_HAVE_ENUM_REQ_OP
#define blksnap_req_op_t enum req_op
#else
#define blksnap_req_op_t enum req_opf
#endif

#ifndef BIO_MAX_VECS
#define BIO_MAX_VECS BIO_MAX_PAGES	/* renamed in 5.12 */
#endif
#ifndef PAGE_SECTORS
#define PAGE_SECTORS (1U << (PAGE_SHIFT - SECTOR_SHIFT))
#endif
#ifndef BLKSNAP_HAVE_GENHD_FL_NO_PART
#define GENHD_FL_NO_PART GENHD_FL_NO_PART_SCAN	/* renamed in 5.17 */
#endif

#ifndef BLKSNAP_HAVE_BVEC_SET_PAGE	/* 6.3, and stable kernels since */
static inline void bvec_set_page(struct bio_vec *bv, struct page *page,
				 unsigned int len, unsigned int offset)
{
	bv->bv_page = page;
	bv->bv_len = len;
	bv->bv_offset = offset;
}
#endif

#ifdef BLKSNAP_HAVE_BIO_BDEV
static inline struct gendisk *blksnap_bio_disk(struct bio *bio)
{
	return bio->bi_bdev->bd_disk;
}

/* Where a bio submitted from the top begins on its whole disk. */
static inline sector_t blksnap_bio_disk_sector(struct bio *bio)
{
	sector_t sector = bio->bi_iter.bi_sector;

	if (!bio_flagged(bio, BIO_REMAPPED))
		sector += bio->bi_bdev->bd_start_sect;
	return sector;
}

static inline sector_t blksnap_bdev_start_sect(struct block_device *bdev)
{
	return bdev->bd_start_sect;
}

/* Keeps @bdev's memory, and its disk's, while the module refers to it. */
static inline int blksnap_bdev_hold(struct block_device *bdev)
{
	get_device(&bdev->bd_device);
	return 0;
}

static inline void blksnap_bdev_unhold(struct block_device *bdev)
{
	put_device(&bdev->bd_device);
}

static inline struct gendisk *blksnap_bdev_disk(struct block_device *bdev)
{
	return bdev->bd_disk;
}

static inline dev_t blksnap_bdev_whole_devt(struct block_device *bdev)
{
	return bdev_whole(bdev)->bd_dev;
}

static inline void blksnap_bio_set_dev(struct bio *bio,
				       struct block_device *bdev)
{
	bio_set_dev(bio, bdev);
}

/* A block device in a message: "%pg" knows it on every kernel since 5.12. */
#define BLKSNAP_PG "%pg"
#define BLKSNAP_PG_ARG(bdev) (bdev)
#else
/*
 * Before 5.12 a block device's bd_disk and bd_contains are there only
 * while it is open, and the module uses the devices it filters closed too:
 * compat.c keeps their disks from the attach on.  Hold and unhold are
 * there, and everything that reaches a held device's disk goes through
 * blksnap_bdev_disk(), the kernel's own helpers included (below).
 */
int blksnap_bdev_hold(struct block_device *bdev);
void blksnap_bdev_unhold(struct block_device *bdev);
struct gendisk *blksnap_bdev_disk(struct block_device *bdev);
const char *blksnap_bdev_name(struct block_device *bdev);

static inline dev_t blksnap_bdev_whole_devt(struct block_device *bdev)
{
	return disk_devt(blksnap_bdev_disk(bdev));
}

/* bio_set_dev() reads bd_disk, which a closed device has not. */
static inline void blksnap_bio_set_dev(struct bio *bio,
				       struct block_device *bdev)
{
	struct gendisk *disk = blksnap_bdev_disk(bdev);

	if (bio->bi_disk != disk)
		bio_clear_flag(bio, BIO_THROTTLED);
	bio->bi_disk = disk;
	bio->bi_partno = bdev->bd_partno;
	bio_associate_blkg(bio);
}

/*
 * The kernel's helpers reach the queue through bd_disk: the module's calls
 * go through the kept disk instead.
 */
#undef bdev_get_queue
#define bdev_get_queue(bdev) (blksnap_bdev_disk(bdev)->queue)
#define bdev_logical_block_size(bdev) queue_logical_block_size(bdev_get_queue(bdev))
#define bdev_physical_block_size(bdev) queue_physical_block_size(bdev_get_queue(bdev))
#define bdev_io_min(bdev) queue_io_min(bdev_get_queue(bdev))
#define bdev_get_integrity(bdev) blk_get_integrity(blksnap_bdev_disk(bdev))

/* "%pg" reads bd_disk too: the name is taken at attach. */
#define BLKSNAP_PG "%s"
#define BLKSNAP_PG_ARG(bdev) blksnap_bdev_name(bdev)

/*
 * Before 5.12 a bio names its disk and partition number (bi_disk,
 * bi_partno), and a block device's partition (bd_part) is there only while
 * it is open.  The partition table itself is read under RCU as the block
 * layer does; a partition gone meanwhile reads as the start of the disk,
 * and the block layer fails such a bio itself.
 */
static inline struct hd_struct *blksnap_disk_part(struct gendisk *disk,
						  u8 partno)
{
	struct disk_part_tbl *tbl = rcu_dereference(disk->part_tbl);

	return partno < tbl->len ? rcu_dereference(tbl->part[partno]) : NULL;
}

static inline sector_t blksnap_part_start_sect(struct gendisk *disk, u8 partno)
{
	struct hd_struct *part;
	sector_t start = 0;

	if (!partno)
		return 0;
	rcu_read_lock();
	part = blksnap_disk_part(disk, partno);
	if (part)
		start = part->start_sect;
	rcu_read_unlock();
	return start;
}

static inline struct gendisk *blksnap_bio_disk(struct bio *bio)
{
	return bio->bi_disk;
}

/* Top-level bios are remapped to the whole disk inside submit_bio_noacct(). */
static inline sector_t blksnap_bio_disk_sector(struct bio *bio)
{
	return bio->bi_iter.bi_sector +
	       blksnap_part_start_sect(bio->bi_disk, bio->bi_partno);
}

static inline sector_t blksnap_bdev_start_sect(struct block_device *bdev)
{
	return blksnap_part_start_sect(blksnap_bdev_disk(bdev), bdev->bd_partno);
}

static inline sector_t bdev_nr_sectors(struct block_device *bdev)
{
	struct gendisk *disk = blksnap_bdev_disk(bdev);
	struct hd_struct *part;
	sector_t size = 0;

	if (!bdev->bd_partno)
		return get_capacity(disk);
	rcu_read_lock();
	part = blksnap_disk_part(disk, bdev->bd_partno);
	if (part)
		size = READ_ONCE(part->nr_sects);
	rcu_read_unlock();
	return size;
}
#endif

/*
 * The partition rescan and BLKPG deletion (bdev_disk_changed() and the
 * hooked bdev_del_partition()) take the disk since 5.11, the whole disk's
 * block device before.
 */
#ifdef BLKSNAP_HAVE_DISK_CHANGED_DISK
#define BLKSNAP_PART_OWNER gendisk
static inline struct gendisk *blksnap_part_owner_disk(struct gendisk *disk)
{
	return disk;
}
#else
#define BLKSNAP_PART_OWNER block_device
static inline struct gendisk *blksnap_part_owner_disk(struct block_device *bdev)
{
	return bdev->bd_disk;
}
#endif

#ifndef BLKSNAP_HAVE_BDEV_NR_BYTES	/* 5.16 */
static inline loff_t bdev_nr_bytes(struct block_device *bdev)
{
	return (loff_t)bdev_nr_sectors(bdev) << SECTOR_SHIFT;
}
#endif

/*
 * Asynchronous direct I/O of a file from module code: a kiocb with
 * IOCB_DIRECT handed to ->write_iter, as the loop driver does.  Only where
 * the file says it takes O_DIRECT (FMODE_CAN_ODIRECT, 5.19; ki_complete
 * lost its third argument in 5.16, before that); elsewhere files are
 * written through the page cache.
 */
#ifdef FMODE_CAN_ODIRECT
#define BLKSNAP_HAVE_DIRECT_AIO
static inline bool blksnap_file_can_direct(struct file *file)
{
	return file->f_mode & FMODE_CAN_ODIRECT;
}
#else
static inline bool blksnap_file_can_direct(struct file *file)
{
	return false;
}
#endif

#ifndef BLKSNAP_HAVE_MEMZERO_PAGE	/* 5.12 */
static inline void memzero_page(struct page *page, size_t offset, size_t len)
{
	zero_user(page, offset, len);
}
#endif

#ifndef BLKSNAP_HAVE_KREALLOC_ARRAY	/* 5.12 */
static inline void *krealloc_array(void *p, size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return krealloc(p, bytes, gfp);
}
#endif

#ifndef BLKSNAP_HAVE_DISK_LIVE	/* 5.15 */
static inline bool disk_live(struct gendisk *disk)
{
	return disk->flags & GENHD_FL_UP;
}
#endif

/* The inode behind a block device: bd_inode gave way to bd_mapping (6.10). */
static inline struct inode *blksnap_bdev_inode(struct block_device *bdev)
{
#ifdef BLKSNAP_HAVE_BD_MAPPING
	return bdev->bd_mapping->host;
#else
	return bdev->bd_inode;
#endif
}

/*
 * freeze_bdev()/thaw_bdev() became bdev_freeze()/bdev_thaw() in 6.8.
 * Before 5.11 the freeze returned the frozen superblock, which the thaw
 * is given back: @sb keeps it (unused since).
 */
static inline int blksnap_bdev_freeze(struct block_device *bdev,
				      struct super_block **sb)
{
#if defined(BLKSNAP_HAVE_BDEV_FREEZE)
	*sb = NULL;
	return bdev_freeze(bdev);
#elif defined(BLKSNAP_HAVE_INT_FREEZE_BDEV)
	*sb = NULL;
	return freeze_bdev(bdev);
#else
	struct super_block *frozen = freeze_bdev(bdev);

	if (IS_ERR(frozen))
		return PTR_ERR(frozen);
	*sb = frozen;
	return 0;
#endif
}

static inline int blksnap_bdev_thaw(struct block_device *bdev,
				    struct super_block *sb)
{
#if defined(BLKSNAP_HAVE_BDEV_FREEZE)
	return bdev_thaw(bdev);
#elif defined(BLKSNAP_HAVE_INT_FREEZE_BDEV)
	return thaw_bdev(bdev);
#else
	return thaw_bdev(bdev, sb);
#endif
}

/*
 * A disk whose block sizes and minimum I/O follow those of @orig.  Since
 * 6.9 the queue limits are given to blk_alloc_disk() (the blk_queue_*
 * setters are gone in 6.11); it returns an ERR_PTR there and NULL before.
 * Before 5.14 a bio-based disk and its queue are allocated apart, and the
 * queue is cleaned up apart (blksnap_cleanup_disk()).
 */
static inline struct gendisk *blksnap_alloc_disk_like(struct block_device *orig)
{
#ifdef BLKSNAP_HAVE_ALLOC_DISK_LIMITS
	struct queue_limits lim = {
		.logical_block_size = bdev_logical_block_size(orig),
		.physical_block_size = bdev_physical_block_size(orig),
		.io_min = bdev_io_min(orig),
	};
	struct gendisk *disk = blk_alloc_disk(&lim, NUMA_NO_NODE);

	return IS_ERR(disk) ? NULL : disk;
#else
#ifdef BLKSNAP_HAVE_BLK_ALLOC_DISK
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);
#else
	struct request_queue *q = blk_alloc_queue(NUMA_NO_NODE);
	struct gendisk *disk = q ? alloc_disk(1) : NULL;

	if (!disk) {
		if (q)
			blk_cleanup_queue(q);
		return NULL;
	}
	disk->queue = q;
#endif
	if (disk) {
		blk_queue_logical_block_size(disk->queue,
					     bdev_logical_block_size(orig));
		blk_queue_physical_block_size(disk->queue,
					      bdev_physical_block_size(orig));
		blk_queue_io_min(disk->queue, bdev_io_min(orig));
	}
	return disk;
#endif
}

/* A bio for @bdev from @bs: bio_alloc_bioset() takes the device since 5.18. */
static inline struct bio *blksnap_bio_alloc_bioset(struct block_device *bdev,
						   unsigned short nr_vecs,
						   blk_opf_t opf, gfp_t gfp,
						   struct bio_set *bs)
{
#ifdef BLKSNAP_HAVE_BIO_ALLOC_BDEV
	return bio_alloc_bioset(bdev, nr_vecs, opf, gfp, bs);
#else
	struct bio *bio = bio_alloc_bioset(gfp, nr_vecs, bs);

	if (bio) {
		blksnap_bio_set_dev(bio, bdev);
		bio->bi_opf = opf;
	}
	return bio;
#endif
}

/*
 * A clone of @src for @bdev from @bs, sharing its pages: bio_alloc_clone()
 * since 5.18, bio_clone_fast() before.
 */
static inline struct bio *blksnap_bio_alloc_clone(struct block_device *bdev,
						  struct bio *src, gfp_t gfp,
						  struct bio_set *bs)
{
#ifdef BLKSNAP_HAVE_BIO_ALLOC_CLONE
	return bio_alloc_clone(bdev, src, gfp, bs);
#else
	struct bio *bio = bio_clone_fast(src, gfp, bs);

	if (bio)
		blksnap_bio_set_dev(bio, bdev);
	return bio;
#endif
}

/* add_disk() can fail since 5.15. */
static inline int blksnap_add_disk(struct gendisk *disk)
{
#ifdef BLKSNAP_HAVE_INT_ADD_DISK
	return add_disk(disk);
#else
	add_disk(disk);
	return 0;
#endif
}

/* After del_gendisk(): before 5.14 the queue went with the driver. */
static inline void blksnap_cleanup_disk(struct gendisk *disk)
{
#ifndef BLKSNAP_HAVE_BLK_ALLOC_DISK
	blk_cleanup_queue(disk->queue);
#endif
}

/*
 * A struct dir_context actor returns whether to go on since 6.1, and an
 * error to stop before.
 */
#ifdef BLKSNAP_HAVE_BOOL_FILLDIR
#define BLKSNAP_FILLDIR_RET bool
#define BLKSNAP_FILLDIR_GO_ON true
#define BLKSNAP_FILLDIR_STOP false
#else
#define BLKSNAP_FILLDIR_RET int
#define BLKSNAP_FILLDIR_GO_ON 0
#define BLKSNAP_FILLDIR_STOP (-EINTR)
#endif

/*
 * The pages of a bvec iterator added to a bio.  bio_iov_iter_get_pages()
 * did this until it gained an alignment argument (6.18) and stopped being
 * exported (7.2), so the module does it itself, on every kernel: the
 * iterator is always a piece of one chunk, well under BIO_MAX_VECS pages.
 */
static inline unsigned short blksnap_bvec_iter_npages(const struct iov_iter *iter)
{
	return iov_iter_npages(iter, BIO_MAX_VECS);
}

static inline int blksnap_bio_add_bvec_iter(struct bio *bio,
					    struct iov_iter *iter)
{
	size_t left = iov_iter_count(iter);
	const struct bio_vec *bv = iter->bvec;
	size_t skip = iter->iov_offset;

	if (WARN_ON_ONCE(!iov_iter_is_bvec(iter)))
		return -EINVAL;
	while (left) {
		size_t off = bv->bv_offset + skip;
		unsigned int len = min_t(size_t, left, bv->bv_len - skip);

		len = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		if (bio_add_page(bio, bv->bv_page + (off >> PAGE_SHIFT), len,
				 offset_in_page(off)) != len)
			return -EIO;
		left -= len;
		skip += len;
		if (skip == bv->bv_len) {
			skip = 0;
			bv++;
		}
	}
	iov_iter_advance(iter, iov_iter_count(iter));
	return 0;
}

#endif /* __BLKSNAP_COMPAT_H */
