/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_CBT_MAP_H
#define __BLKSNAP_CBT_MAP_H

#include <linux/blk_types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uuid.h>

struct blksnap_cbtinfo;
struct blksnap_sectors;

/**
 * struct cbt_map - change-block tracking map of one device
 * @lock:	guards everything below; held briefly, never across user copies
 * @capacity:	device size in sectors the map was built for
 * @block_shift: log2 of the block size in sectors
 * @block_count: bytes in each map
 * @write_map:	per block, the take number before which it last changed
 * @read_map:	snapshot of @write_map at the last take; what CBTMAP shows
 * @active:	number stamped on changed blocks now, 1..255
 * @reported:	number of the last take (changes_number), 0 before any take
 * @generation_id: changes when the numbers restart or the map is rebuilt
 *
 * The map never grows or shrinks in place: cbt_map_rebuild() replaces it
 * with an empty one sized for the new capacity, in a new generation.
 * CBTMAP shows @read_map, so writes become visible only after a take.
 */
struct cbt_map {
	spinlock_t lock; /* see @lock above */
	sector_t capacity;
	unsigned int block_shift;
	u32 block_count;
	u8 *write_map;
	u8 *read_map;
	u8 active;
	u8 reported;
	uuid_t generation_id;
};

int cbt_map_init(struct cbt_map *map, sector_t capacity);
void cbt_map_destroy(struct cbt_map *map);
int cbt_map_rebuild(struct cbt_map *map, sector_t capacity);

void cbt_map_mark(struct cbt_map *map, sector_t sector, sector_t count);
int cbt_map_mark_dirty(struct cbt_map *map, const struct blksnap_sectors *ranges,
		       unsigned int count);

/**
 * cbt_map_switch - the CBT part of a snapshot take
 * @map: the device's map
 *
 * Copies the write map to the read map, reports the old active number as
 * changes_number and increments the active number.  When it would reach
 * 256 it restarts at 1, the write map is cleared and a new generation is
 * made.  Atomic against marking and ioctls.  Call with the device frozen
 * so the take is one point in time, and call tracker_check_capacity()
 * before freezing: a pending resize allocates.
 */
void cbt_map_switch(struct cbt_map *map);

void cbt_map_info(struct cbt_map *map, struct blksnap_cbtinfo *info);
ssize_t cbt_map_read(struct cbt_map *map, u32 offset, u8 __user *buf, u32 len);

/* Bytes of memory held by the maps, for the memory counters. */
size_t cbt_map_bytes(struct cbt_map *map);

#endif /* __BLKSNAP_CBT_MAP_H */
