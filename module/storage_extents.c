// SPDX-License-Identifier: GPL-2.0
/*
 * Difference storage in a file on the very filesystem that is snapshotted.
 *
 * Written through the VFS, such a file would change the filesystem under
 * its own snapshot (allocation, unwritten extents turning written,
 * timestamps), and copy-on-write of those writes would feed on itself.
 * Instead the file is allocated in full before the take, its block map is
 * read here once, and the module reads and writes its sectors with bios
 * from module text, which the filter lets pass: no copy-on-write of them,
 * no CBT mark.  That is only safe while the map cannot change, hence:
 *
 *  - only filesystems whose map of a file changes through that file alone
 *    (write, truncate, fallocate, defragmentation, reflink) are accepted:
 *    ext2/3/4 and xfs.  btrfs, bcachefs and zfs move blocks by themselves
 *    (copy-on-write, balance) and report addresses that are not sectors
 *    of one device; f2fs moves blocks in its garbage collection;
 *  - extents that are shared (reflinked), encoded (compressed), encrypted,
 *    inline, of unknown place or not aligned to the device's logical
 *    block are refused, and so is any hole;
 *  - the file is pinned in memory: S_SWAPFILE makes the kernel refuse
 *    writes, truncation, fallocate, reflinks and extent swaps (as for an
 *    active swap file), S_IMMUTABLE refuses rename, unlink, new links and
 *    every new open for writing; a writer that already had it open is
 *    refused at the pin (ETXTBSY), so no shared mapping can write it.
 *
 * The pin is not written to disk: a machine that loses power under a
 * snapshot comes back with an ordinary file, which user space removes or
 * reuses.  Unwritten (fallocated) extents stay unwritten for the
 * filesystem, which reads them as zeros whatever the module put there;
 * the module reads its own data back with bios, so that does not matter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-storage: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "storage_extents.h"

/* Filesystems whose block map of a file moves only through that file. */
static const char *const storage_extents_stable_fs[] = {
	"ext2", "ext3", "ext4", "xfs",
};

/* Extent flags the module cannot address with plain bios. */
#define STORAGE_EXTENTS_REFUSED \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | \
	 FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED | \
	 FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE | \
	 FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_SHARED)

/* Extents asked of the filesystem at a time. */
#define STORAGE_FIEMAP_BATCH	128

static bool storage_extents_fs_stable(struct super_block *sb)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(storage_extents_stable_fs); i++)
		if (!strcmp(sb->s_type->name, storage_extents_stable_fs[i]))
			return true;
	return false;
}

static int storage_extents_add(struct storage_extents *se, sector_t logical,
			       sector_t physical, sector_t count)
{
	struct storage_extent *last = se->nr ? &se->ext[se->nr - 1] : NULL;
	struct storage_extent *ext;

	if (last && last->logical + last->count == logical &&
	    last->physical + last->count == physical) {
		last->count += count;
	} else {
		ext = krealloc_array(se->ext, se->nr + 1, sizeof(*ext),
				     GFP_KERNEL);
		if (!ext)
			return -ENOMEM;
		se->ext = ext;
		se->ext[se->nr++] = (struct storage_extent) {
			.logical = logical,
			.physical = physical,
			.count = count,
		};
	}
	se->low = min(se->low, physical);
	se->high = max(se->high, physical + count);
	se->sectors = logical + count;
	return 0;
}

/*
 * One batch of the filesystem's map from @pos on, into @se.  ->fiemap
 * writes to user memory: the batch goes through a private mapping of the
 * calling process, which is the one that asked for the snapshot.
 *
 * Return: bytes of the file mapped by this batch (> 0), or a negative errno.
 */
static long storage_extents_batch(struct storage_extents *se,
				  struct fiemap_extent *kbuf,
				  unsigned long ubuf, u64 pos, u64 bytes,
				  u64 align, u64 dev_bytes)
{
	struct inode *inode = se->inode;
	struct fiemap_extent_info fi = {
		.fi_flags = FIEMAP_FLAG_SYNC,
		.fi_extents_max = STORAGE_FIEMAP_BATCH,
		.fi_extents_start = (struct fiemap_extent __user *)ubuf,
	};
	u64 start = pos;
	unsigned int i;
	int ret;

	ret = inode->i_op->fiemap(inode, &fi, pos, bytes - pos);
	if (ret)
		return ret;
	if (!fi.fi_extents_mapped)
		return -EOPNOTSUPP;	/* a hole up to the end */
	if (copy_from_user(kbuf, (void __user *)ubuf,
			   fi.fi_extents_mapped * sizeof(*kbuf)))
		return -EFAULT;

	for (i = 0; i < fi.fi_extents_mapped && pos < bytes; i++) {
		struct fiemap_extent *fe = &kbuf[i];
		u64 skip, len;

		if (fe->fe_flags & STORAGE_EXTENTS_REFUSED) {
			pr_err("extent at %llu has flags %#x\n",
			       fe->fe_logical, fe->fe_flags);
			return -EOPNOTSUPP;
		}
		if (fe->fe_logical + fe->fe_length <= pos)
			continue;
		if (fe->fe_logical > pos) {
			pr_err("hole at %llu\n", pos);
			return -EOPNOTSUPP;
		}
		skip = pos - fe->fe_logical;
		len = min(fe->fe_length - skip, bytes - pos);
		if ((fe->fe_physical + skip) % align || len % SECTOR_SIZE ||
		    fe->fe_physical + skip + len > dev_bytes) {
			pr_err("extent at %llu cannot be addressed\n",
			       fe->fe_logical);
			return -EOPNOTSUPP;
		}
		ret = storage_extents_add(se, pos >> SECTOR_SHIFT,
					  (fe->fe_physical + skip) >> SECTOR_SHIFT,
					  len >> SECTOR_SHIFT);
		if (ret)
			return ret;
		pos += len;
		if ((fe->fe_flags & FIEMAP_EXTENT_LAST) && pos < bytes) {
			pr_err("hole at %llu\n", pos);
			return -EOPNOTSUPP;
		}
	}
	return pos > start ? (long)(pos - start) : -EOPNOTSUPP;
}

static int storage_extents_map(struct storage_extents *se, u64 bytes)
{
	struct block_device *bdev = se->inode->i_sb->s_bdev;
	size_t ubytes = STORAGE_FIEMAP_BATCH * sizeof(struct fiemap_extent);
	struct fiemap_extent *kbuf;
	unsigned long ubuf;
	u64 pos = 0;
	long done = 0;

	kbuf = kmalloc(ubytes, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	ubuf = vm_mmap(NULL, 0, ubytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(ubuf)) {
		kfree(kbuf);
		return (int)ubuf;
	}
	while (pos < bytes) {
		done = storage_extents_batch(se, kbuf, ubuf, pos, bytes,
					     bdev_logical_block_size(bdev),
					     bdev_nr_bytes(bdev));
		if (done < 0)
			break;
		pos += done;
	}
	vm_munmap(ubuf, ubytes);
	kfree(kbuf);
	return done < 0 ? (int)done : 0;
}

static void storage_extents_unpin_flags(struct storage_extents *se)
{
	inode_lock(se->inode);
	inode_set_flags(se->inode, 0, se->added);
	inode_unlock(se->inode);
	se->pinned = false;
}

/**
 * blksnap_storage_extents_pin() - allocate, pin and map a storage file
 * @file:	the file, open for writing (that descriptor only)
 * @sectors:	size to allocate and map, from the start of the file
 *
 * Called before the take, in the task that adds a device to the snapshot
 * (the map is read through its memory).  The file is extended to @sectors
 * if shorter and every hole in it is allocated, as fallocate does; its
 * content is left alone.
 *
 * Return: the map, or an ERR_PTR: -EOPNOTSUPP for a filesystem or a file
 * whose map is not stable (see above), -ETXTBSY for a file that someone
 * else has open for writing or that is pinned already (a swap file, the
 * storage of another snapshot), or what fallocate reports (-ENOSPC).
 */
struct storage_extents *blksnap_storage_extents_pin(struct file *file,
						    sector_t sectors)
{
	struct inode *inode = file_inode(file);
	struct super_block *sb = inode->i_sb;
	u64 bytes = (u64)sectors << SECTOR_SHIFT;
	struct storage_extents *se;
	int ret;

	if (!sb->s_bdev || !inode->i_op->fiemap || !storage_extents_fs_stable(sb))
		return ERR_PTR(-EOPNOTSUPP);
	/* Only a task with its own memory can take the map; see above. */
	if (!current->mm)
		return ERR_PTR(-EOPNOTSUPP);
	if (IS_SWAPFILE(inode))
		return ERR_PTR(-ETXTBSY);

	ret = vfs_fallocate(file, 0, 0, bytes);
	if (ret)
		return ERR_PTR(ret);

	se = kzalloc(sizeof(*se), GFP_KERNEL);
	if (!se)
		return ERR_PTR(-ENOMEM);
	se->inode = inode;
	se->start = blksnap_bdev_start_sect(sb->s_bdev);
	se->low = (sector_t)-1;

	inode_lock(inode);
	if (IS_SWAPFILE(inode)) {
		inode_unlock(inode);
		ret = -ETXTBSY;
		goto fail;
	}
	se->added = (S_SWAPFILE | S_IMMUTABLE) & ~inode->i_flags;
	inode_set_flags(inode, se->added, se->added);
	se->pinned = true;
	inode_unlock(inode);

	/* Ours is the only writer; none can come now (S_IMMUTABLE). */
	if (atomic_read(&inode->i_writecount) > 1) {
		ret = -ETXTBSY;
		goto fail_pin;
	}
	ret = storage_extents_map(se, bytes);
	if (ret)
		goto fail_pin;
	return se;

fail_pin:
	storage_extents_unpin_flags(se);
fail:
	blksnap_storage_extents_free(se);
	return ERR_PTR(ret);
}

/**
 * blksnap_storage_extents_unpin() - give the file back to its filesystem
 * @se:		the map; its sectors must no longer be in use
 *
 * Clears only the flags the pin set.  Idempotent.
 */
void blksnap_storage_extents_unpin(struct storage_extents *se)
{
	if (se->pinned)
		storage_extents_unpin_flags(se);
}

void blksnap_storage_extents_free(struct storage_extents *se)
{
	kfree(se->ext);
	kfree(se);
}

/**
 * blksnap_storage_extents_lookup() - where a sector of the file is
 * @se:		the map
 * @logical:	sector of the file
 * @count:	out: sectors from there that are contiguous on the device,
 *		0 if @logical is not mapped
 *
 * Return: the sector on the filesystem's device.
 */
sector_t blksnap_storage_extents_lookup(const struct storage_extents *se,
					sector_t logical, sector_t *count)
{
	unsigned int lo = 0, hi = se->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct storage_extent *ext = &se->ext[mid];

		if (logical < ext->logical) {
			hi = mid;
		} else if (logical >= ext->logical + ext->count) {
			lo = mid + 1;
		} else {
			*count = ext->logical + ext->count - logical;
			return ext->physical + (logical - ext->logical);
		}
	}
	*count = 0;
	return 0;
}

/**
 * blksnap_storage_extents_zero() - blank the file's sectors in a read
 * @se:		the map
 * @start:	first sector of the bio's device on the whole disk that
 *		holds the file
 * @bio:	a completed read of that disk, its iterator untouched
 *
 * The image of the device that holds the storage shows the file as it
 * was at the take, as its filesystem reads it: zeros for the unwritten
 * extents of a new file.  The sectors themselves hold chunks stored since.
 */
void blksnap_storage_extents_zero(const struct storage_extents *se,
				  sector_t start, struct bio *bio)
{
	sector_t first = start + bio->bi_iter.bi_sector;
	struct bvec_iter it;
	struct bio_vec bv;
	unsigned int i;

	if (first >= se->start + se->high ||
	    first + bio_sectors(bio) <= se->start + se->low)
		return;
	bio_for_each_segment(bv, bio, it) {
		sector_t s = start + it.bi_sector;
		sector_t e = s + (bv.bv_len >> SECTOR_SHIFT);

		for (i = 0; i < se->nr; i++) {
			sector_t a = max(s, se->start + se->ext[i].physical);
			sector_t b = min(e, se->start + se->ext[i].physical +
					 se->ext[i].count);

			if (a < b)
				memzero_page(bv.bv_page,
					     bv.bv_offset + ((a - s) << SECTOR_SHIFT),
					     (b - a) << SECTOR_SHIFT);
		}
	}
}
