/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_STORAGE_EXTENTS_H
#define __BLKSNAP_STORAGE_EXTENTS_H

#include <linux/types.h>

struct bio;
struct file;

/**
 * struct storage_extent - one run of a file that is contiguous on disk
 * @logical:	first sector in the file
 * @physical:	first sector on the filesystem's device
 * @count:	sectors
 */
struct storage_extent {
	sector_t logical;
	sector_t physical;
	sector_t count;
};

/**
 * struct storage_extents - the pinned block map of a difference storage file
 * @inode:	the file's inode (the storage's open file keeps it)
 * @added:	inode flags the pin set, and clears again at unpin
 * @pinned:	the pin is in place
 * @start:	first sector of the filesystem's device on its whole disk
 * @low:	lowest sector any extent covers (on the filesystem's device)
 * @high:	sector after the highest one any extent covers
 * @sectors:	sectors mapped, from 0, without a hole
 * @nr:		extents in @ext
 * @ext:	the map, sorted by @logical, adjacent runs merged
 */
struct storage_extents {
	struct inode *inode;
	unsigned int added;
	bool pinned;
	sector_t start;
	sector_t low;
	sector_t high;
	sector_t sectors;
	unsigned int nr;
	struct storage_extent *ext;
};

struct storage_extents *blksnap_storage_extents_pin(struct file *file,
						    sector_t sectors);
void blksnap_storage_extents_unpin(struct storage_extents *se);
void blksnap_storage_extents_free(struct storage_extents *se);
sector_t blksnap_storage_extents_lookup(const struct storage_extents *se,
					sector_t logical, sector_t *count);
void blksnap_storage_extents_zero(const struct storage_extents *se,
				  sector_t start, struct bio *bio);

#endif /* __BLKSNAP_STORAGE_EXTENTS_H */
