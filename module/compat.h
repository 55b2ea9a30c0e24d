/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_COMPAT_H
#define __BLKSNAP_COMPAT_H

/*
 * What the module needs from the kernel, and the shims that let one source
 * build on every kernel it supports: Debian 12's 6.1 (amd64, cloud, rt) and
 * 6.12 (amd64, cloud, rt) header sets (make kernels).  All differences
 * between kernels live here, keyed on features, not version numbers: a
 * macro the preprocessor can see, or a BLKSNAP_HAVE_* that Kbuild defines
 * when the kernel headers declare the interface.
 *
 * Not testable by the preprocessor, so stated: blkdev_ioctl() has the
 * signature of a file operation, long (struct file *, unsigned int,
 * unsigned long), as since Linux 5.15; filter.c redirects it.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ftrace.h>
#include <linux/uio.h>

#if !defined(CONFIG_DYNAMIC_FTRACE_WITH_REGS) || !defined(CONFIG_KPROBES)
#error "blksnap needs CONFIG_DYNAMIC_FTRACE_WITH_REGS and CONFIG_KPROBES"
#endif

/*
 * Setting the resume address from struct ftrace_regs (5.11+; renamed in
 * 6.8).  Without CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS the generic fallback
 * silently does nothing, so that is refused too.
 */
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#error "blksnap needs CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS"
#endif
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
 * recursion (the meaning since 5.11; before, the flag was inverted).
 */
#define BLKSNAP_FTRACE_OPS_FLAGS \
	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
	 FTRACE_OPS_FL_RECURSION)

/* The inode behind a block device: bd_inode gave way to bd_mapping (6.10). */
static inline struct inode *blksnap_bdev_inode(struct block_device *bdev)
{
#ifdef BLKSNAP_HAVE_BD_MAPPING
	return bdev->bd_mapping->host;
#else
	return bdev->bd_inode;
#endif
}

/* freeze_bdev()/thaw_bdev() became bdev_freeze()/bdev_thaw() in 6.8. */
static inline int blksnap_bdev_freeze(struct block_device *bdev)
{
#ifdef BLKSNAP_HAVE_BDEV_FREEZE
	return bdev_freeze(bdev);
#else
	return freeze_bdev(bdev);
#endif
}

static inline int blksnap_bdev_thaw(struct block_device *bdev)
{
#ifdef BLKSNAP_HAVE_BDEV_FREEZE
	return bdev_thaw(bdev);
#else
	return thaw_bdev(bdev);
#endif
}

/*
 * A disk whose block sizes and minimum I/O follow those of @orig.  Since
 * 6.9 the queue limits are given to blk_alloc_disk() (the blk_queue_*
 * setters are gone in 6.11); it returns an ERR_PTR there and NULL before.
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
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);

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
