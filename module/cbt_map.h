/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BLKSNAP_CBT_MAP_H
#define __BLKSNAP_CBT_MAP_H

#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uuid.h>
#include <linux/wait.h>

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
 * @epoch:	slot of @in_flight that counts writes marked now; flips at
 *		every switch
 * @in_flight:	writes marked in each epoch that have not completed yet
 * @drained:	woken when a slot of @in_flight drops to zero
 *
 * Marking a write and counting it in flight happen under @lock, as does
 * the switch, so every write stamped before a switch is counted in the
 * slot the switch retires: waiting for that slot to empty (a take does)
 * waits for exactly those writes (and perhaps a few stamped just after).
 *
 * The map never grows or shrinks in place: blksnap_cbt_map_rebuild() replaces it
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
	unsigned int epoch;
	atomic_t in_flight[2];
	wait_queue_head_t drained;
};

/**
 * struct cbt_stamp - what marking one write left in the map
 * @number:	the take number stamped on the write's blocks
 * @epoch:	the slot of &cbt_map.in_flight the write is counted in
 */
struct cbt_stamp {
	u8 number;
	u8 epoch;
};

int blksnap_cbt_map_init(struct cbt_map *map, sector_t capacity);
void blksnap_cbt_map_destroy(struct cbt_map *map);
int blksnap_cbt_map_rebuild(struct cbt_map *map, sector_t capacity);

struct cbt_stamp blksnap_cbt_map_mark(struct cbt_map *map, sector_t sector,
				      sector_t count);
void blksnap_cbt_map_write_done(struct cbt_map *map, struct cbt_stamp stamp);
void blksnap_cbt_map_wait_drained(struct cbt_map *map, u8 epoch);
bool blksnap_cbt_map_drained(struct cbt_map *map, u8 epoch);
void blksnap_cbt_map_mark_both(struct cbt_map *map, sector_t sector, sector_t count);
int blksnap_cbt_map_mark_dirty(struct cbt_map *map, const struct blksnap_sectors *ranges,
			       unsigned int count);

/**
 * blksnap_cbt_map_switch - the CBT part of a snapshot take
 * @map: the device's map
 *
 * Copies the write map to the read map, reports the old active number as
 * changes_number and increments the active number.  When it would reach
 * 256 it restarts at 1, the write map is cleared and a new generation is
 * made.  Atomic against marking and ioctls.  Call with the device frozen
 * so the take is one point in time, and call blksnap_tracker_check_capacity()
 * before freezing: a pending resize allocates.
 *
 * Return: the stamp of the writes marked before the switch; its epoch is
 * what blksnap_cbt_map_wait_drained() waits for.
 */
struct cbt_stamp blksnap_cbt_map_switch(struct cbt_map *map);

void blksnap_cbt_map_info(struct cbt_map *map, struct blksnap_cbtinfo *info);
int blksnap_cbt_map_read(struct cbt_map *map, u32 offset, u8 __user *buf,
			 u32 len);

/* Bytes of memory held by the maps, for the memory counters. */
size_t blksnap_cbt_map_bytes(struct cbt_map *map);

#endif /* __BLKSNAP_CBT_MAP_H */
