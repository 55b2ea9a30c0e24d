// SPDX-License-Identifier: GPL-2.0
/*
 * Change-block tracking map: one byte per block, holding the number of the
 * take before which the block last changed.  Writes stamp the write map;
 * a take copies it to the read map, which is what user space reads, so a
 * backup can select the blocks changed since the take it last saw.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/blksnap.h>
#include "cbt_map.h"
#include "compat.h"
#include "params.h"

#define CBT_MAP_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/* The smallest block that keeps the map within blksnap_tracking_block_maximum_count. */
static unsigned int cbt_block_shift(sector_t capacity)
{
	unsigned int shift = blksnap_tracking_block_minimum_shift - SECTOR_SHIFT;
	unsigned int max = blksnap_tracking_block_maximum_shift - SECTOR_SHIFT;

	while (shift < max &&
	       DIV_ROUND_UP_ULL(capacity, 1ULL << shift) > blksnap_tracking_block_maximum_count)
		shift++;
	return shift;
}

static int cbt_maps_alloc(sector_t capacity, unsigned int *shift, u32 *count,
			  u8 **write_map, u8 **read_map)
{
	u64 blocks;

	*shift = cbt_block_shift(capacity);
	blocks = DIV_ROUND_UP_ULL(capacity, 1ULL << *shift);
	if (!blocks || blocks > U32_MAX)
		return -EINVAL;
	*count = blocks;
	/*
	 * A map is as big as module parameters and capacity make it: failing
	 * is an answer (ENOMEM), never a reason to warn or to OOM-kill.
	 */
	*write_map = kvzalloc(blocks, CBT_MAP_GFP);
	*read_map = kvzalloc(blocks, CBT_MAP_GFP);
	if (!*write_map || !*read_map) {
		kvfree(*write_map);
		kvfree(*read_map);
		return -ENOMEM;
	}
	return 0;
}

int blksnap_cbt_map_init(struct cbt_map *map, sector_t capacity)
{
	int ret;

	spin_lock_init(&map->lock);
	atomic_set(&map->in_flight[0], 0);
	atomic_set(&map->in_flight[1], 0);
	init_waitqueue_head(&map->drained);
	map->epoch = 0;
	ret = cbt_maps_alloc(capacity, &map->block_shift, &map->block_count,
			     &map->write_map, &map->read_map);
	if (ret)
		return ret;
	map->capacity = capacity;
	map->active = 1;
	map->reported = 0;
	uuid_gen(&map->generation_id);
	return 0;
}

void blksnap_cbt_map_destroy(struct cbt_map *map)
{
	kvfree(map->write_map);
	kvfree(map->read_map);
	map->write_map = NULL;
	map->read_map = NULL;
}

/*
 * After a capacity change the old numbers mean nothing for the new extent.
 * The map starts over as at attach, in a new generation, which tells user
 * space that a full backup is due.
 */
int blksnap_cbt_map_rebuild(struct cbt_map *map, sector_t capacity)
{
	u8 *write_map, *read_map, *old_write, *old_read;
	unsigned int shift;
	u32 count;
	int ret;

	ret = cbt_maps_alloc(capacity, &shift, &count, &write_map, &read_map);
	if (ret)
		return ret;

	spin_lock(&map->lock);
	old_write = map->write_map;
	old_read = map->read_map;
	map->write_map = write_map;
	map->read_map = read_map;
	map->capacity = capacity;
	map->block_shift = shift;
	map->block_count = count;
	map->active = 1;
	map->reported = 0;
	uuid_gen(&map->generation_id);
	spin_unlock(&map->lock);

	kvfree(old_write);
	kvfree(old_read);
	pr_info("CBT map rebuilt for %llu sectors, new generation %pUb\n",
		(unsigned long long)capacity, &map->generation_id);
	return 0;
}

/* Blocks [*first, *last] touched by a sector range, clipped to the map. */
static bool cbt_blocks(struct cbt_map *map, sector_t sector, sector_t count,
		       u32 *first, u32 *last)
{
	sector_t end;

	if (!count || sector >= map->capacity)
		return false;
	end = min_t(sector_t, sector + count, map->capacity);
	*first = sector >> map->block_shift;
	*last = (end - 1) >> map->block_shift;
	return true;
}

/*
 * Called from the bio path, always in process context: the filter defers
 * writes submitted in atomic context to a worker (filter.c), so the lock
 * is never taken from an interrupt and needs no irqsave.  The write is
 * counted in flight until blksnap_cbt_map_write_done(); see struct cbt_map.
 */
struct cbt_stamp blksnap_cbt_map_mark(struct cbt_map *map, sector_t sector,
				      sector_t count)
{
	struct cbt_stamp stamp;
	u32 first, last;

	spin_lock(&map->lock);
	if (cbt_blocks(map, sector, count, &first, &last))
		memset(map->write_map + first, map->active, last - first + 1);
	stamp.number = map->active;
	stamp.epoch = map->epoch;
	atomic_inc(&map->in_flight[stamp.epoch]);
	spin_unlock(&map->lock);
	return stamp;
}

/*
 * Any context (a bio's completion).  The caller keeps the map alive: the
 * filter waits until nothing is in flight before it frees a tracker.
 */
void blksnap_cbt_map_write_done(struct cbt_map *map, struct cbt_stamp stamp)
{
	if (atomic_dec_and_test(&map->in_flight[stamp.epoch]))
		wake_up_all(&map->drained);
}

bool blksnap_cbt_map_drained(struct cbt_map *map, u8 epoch)
{
	return !atomic_read(&map->in_flight[epoch]);
}

/* Sleeps until every write counted in @epoch has completed. */
void blksnap_cbt_map_wait_drained(struct cbt_map *map, u8 epoch)
{
	might_sleep();
	wait_event(map->drained, blksnap_cbt_map_drained(map, epoch));
}

/* Blocks changed for the last take and for the next: see mark_dirty. */
static void cbt_map_mark_both_locked(struct cbt_map *map, u32 first, u32 last)
{
	lockdep_assert_held(&map->lock);
	memset(map->write_map + first, map->active, last - first + 1);
	memset(map->read_map + first, map->reported, last - first + 1);
}

/*
 * A write to the snapshot image: the backup made from the image holds data
 * the original never had there, so the blocks count as changed both for
 * that backup (read map) and for the next one, which must read the
 * original again (write map).
 */
void blksnap_cbt_map_mark_both(struct cbt_map *map, sector_t sector, sector_t count)
{
	u32 first, last;

	spin_lock(&map->lock);
	if (cbt_blocks(map, sector, count, &first, &last))
		cbt_map_mark_both_locked(map, first, last);
	spin_unlock(&map->lock);
}

/*
 * Ranges were checked against the capacity by the caller; they are checked
 * again under the lock because the map may have been rebuilt meanwhile, and
 * then nothing is marked.
 */
int blksnap_cbt_map_mark_dirty(struct cbt_map *map, const struct blksnap_sectors *ranges,
			       unsigned int count)
{
	unsigned int i;
	u32 first, last;

	spin_lock(&map->lock);
	for (i = 0; i < count; i++) {
		if (ranges[i].offset > map->capacity ||
		    ranges[i].count > map->capacity - ranges[i].offset) {
			spin_unlock(&map->lock);
			return -EINVAL;
		}
	}
	for (i = 0; i < count; i++) {
		if (cbt_blocks(map, ranges[i].offset, ranges[i].count,
			       &first, &last))
			cbt_map_mark_both_locked(map, first, last);
	}
	spin_unlock(&map->lock);
	return 0;
}

struct cbt_stamp blksnap_cbt_map_switch(struct cbt_map *map)
{
	struct cbt_stamp before;

	spin_lock(&map->lock);
	before.number = map->active;
	before.epoch = map->epoch;
	memcpy(map->read_map, map->write_map, map->block_count);
	map->reported = map->active;
	if (map->active == U8_MAX) {
		map->active = 1;
		memset(map->write_map, 0, map->block_count);
		uuid_gen(&map->generation_id);
	} else {
		map->active++;
	}
	map->epoch ^= 1;
	spin_unlock(&map->lock);
	return before;
}

void blksnap_cbt_map_info(struct cbt_map *map, struct blksnap_cbtinfo *info)
{
	memset(info, 0, sizeof(*info));
	spin_lock(&map->lock);
	info->device_capacity = (u64)map->capacity << SECTOR_SHIFT;
	info->block_size = 1U << (map->block_shift + SECTOR_SHIFT);
	info->block_count = map->block_count;
	export_uuid(info->generation_id.b, &map->generation_id);
	info->changes_number = map->reported;
	spin_unlock(&map->lock);
}

/*
 * Copies through a bounce page because user memory may fault and the lock
 * must not be held then.  As upstream, the window must lie inside the map:
 * a window past the end is ENODATA, not a shorter copy, so a caller never
 * mistakes a map that shrank under it for the whole map.
 */
int blksnap_cbt_map_read(struct cbt_map *map, u32 offset, u8 __user *buf,
			 u32 len)
{
	u8 *bounce;
	int ret = 0;

	bounce = (u8 *)__get_free_page(GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE);

		spin_lock(&map->lock);
		if (offset > map->block_count ||
		    len > map->block_count - offset) {
			spin_unlock(&map->lock);
			ret = -ENODATA;
			break;
		}
		memcpy(bounce, map->read_map + offset, chunk);
		spin_unlock(&map->lock);
		if (copy_to_user(buf, bounce, chunk)) {
			ret = -EFAULT;
			break;
		}
		buf += chunk;
		offset += chunk;
		len -= chunk;
		cond_resched();
	}
	free_page((unsigned long)bounce);
	return ret;
}

size_t blksnap_cbt_map_bytes(struct cbt_map *map)
{
	return 2 * (size_t)map->block_count;
}
