// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: their life cycle, the consistent take of several devices and
 * the user-space commands that drive them.
 *
 * Errors of the snapshot commands, beyond those common to a door
 * (EPERM without CAP_SYS_ADMIN, EFAULT for unreadable memory):
 *   ESRCH        no snapshot has the given id (ENOENT is kept for "no
 *                event in time" and "filter not attached"); DESTROY says
 *                ENODEV instead, as upstream's does
 *   ENAMETOOLONG the storage path is longer than PATH_MAX
 *   EINVAL       bad argument: empty path, limit 0 for a file, a path
 *                that is not a regular file, directory or block device,
 *                optlen smaller than the command's structure (a larger
 *                one is accepted, as upstream)
 *   EALREADY     take of a taken snapshot; add of a device already in
 *                this snapshot
 *   EBUSY        add to a taken snapshot, add of a device that is in
 *                another snapshot, detach of a device in a snapshot,
 *                block device storage in use
 *   EPERM        add of the device that holds the snapshot's block device
 *                storage (or shares its disk), or under a stack of devices
 *                of any storage (stack.c): copy-on-write would feed on itself
 *   EOPNOTSUPP   add of a device with an integrity profile or inline
 *                encryption: the original data is not all in the sectors;
 *                add of the device of a storage file whose block map is
 *                not stable (storage_extents.c)
 *   ETXTBSY      add of the device of a storage file that is open for
 *                writing elsewhere or pinned already
 *   ENODEV       destroy of an unknown id; take of a snapshot without
 *                devices
 *   ENODATA      collect with too little room; count says how many ids
 *                were written (a null ids array only counts, like upstream)
 *   ENOENT       wait_event: no event within the timeout
 *   EINTR        wait_event: interrupted by a signal
 *   anything freeze_bdev() returns: the take is undone, nothing changed
 * A take whose image cannot be created for a device succeeds; that device
 * is marked corrupted with the reason (see snapshot_create_images()).
 *
 * Module unload destroys every snapshot and then detaches every filter, as
 * upstream's does; the kernel itself refuses the unload while an image (or
 * the control device) is open, through the block device's module owner.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-snapshot: " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/blksnap.h>
#include "chunk.h"
#include "compat.h"
#include "debugfs.h"
#include "diff_area.h"
#include "diff_storage.h"
#include "filter.h"
#include "snapimage.h"
#include "snapshot.h"
#include "stack.h"
#include "tracker.h"

/*
 * Snapshots share one list; more than this many is not a backup session
 * but a leak, and COLLECT need not allocate beyond it.
 */
#define BLKSNAP_COLLECT_MAX	65536U

/**
 * struct snapshot_device - one device of a snapshot
 * @link:	position in snapshot->devices
 * @tracker:	the device's filter, referenced
 * @diff_area:	copy-on-write state once taken, else NULL
 * @image:	the snapshot image once taken, else NULL
 * @stack:	the devices under this one, while a take orders the freeze
 * @frozen_sb:	what a take's freeze returned, for its thaw (before 5.11)
 */
struct snapshot_device {
	struct list_head link;
	struct tracker *tracker;
	struct diff_area *diff_area;
	struct snapimage *image;
	struct blksnap_stack *stack;
	struct super_block *frozen_sb;
};

/* Whether I/O of @upper can land on @lower (both with their stacks). */
static bool snapshot_device_stacks_on(struct snapshot_device *upper,
				      struct snapshot_device *lower)
{
	struct block_device *bdev = lower->tracker->bdev;

	/* From 1: a disk and its own partitions do not wait for each other. */
	return blksnap_stack_reaches(upper->stack, 1, bdev->bd_dev,
				     blksnap_bdev_whole_devt(bdev));
}

struct workqueue_struct *blksnap_snapshot_wq;
struct workqueue_struct *blksnap_cow_wq;

/*
 * Guards the list, every snapshot's devices and state, and the
 * diff_area pointers of trackers.  Never taken in the bio path.  Where it
 * stands among the module's locks: module/README.md, "Lock order".
 */
static DEFINE_MUTEX(snapshots_lock);
static LIST_HEAD(snapshots);

static void snapshot_release(struct kref *kref)
{
	struct snapshot *snapshot = container_of(kref, struct snapshot, kref);

	blksnap_diff_storage_close(snapshot->storage);
	blksnap_event_queue_done(&snapshot->events);
	blksnap_chunk_pool_done(&snapshot->pool);
	kfree(snapshot);
}

void blksnap_snapshot_get(struct snapshot *snapshot)
{
	kref_get(&snapshot->kref);
}

void blksnap_snapshot_put(struct snapshot *snapshot)
{
	kref_put(&snapshot->kref, snapshot_release);
}

static struct snapshot *snapshot_find(const struct blksnap_uuid *id)
{
	struct snapshot *snapshot;

	lockdep_assert_held(&snapshots_lock);
	list_for_each_entry(snapshot, &snapshots, link)
		if (!memcmp(snapshot->id.b, id->b, sizeof(id->b)))
			return snapshot;
	return NULL;
}

static struct snapshot *snapshot_find_tracker(struct tracker *tracker,
					      struct snapshot_device **found)
{
	struct snapshot_device *sd;
	struct snapshot *snapshot;

	lockdep_assert_held(&snapshots_lock);
	list_for_each_entry(snapshot, &snapshots, link)
		list_for_each_entry(sd, &snapshot->devices, link)
			if (sd->tracker == tracker) {
				*found = sd;
				return snapshot;
			}
	return NULL;
}

long blksnap_snapshot_ioctl_create(void __user *arg)
{
	struct blksnap_snapshot_create karg;
	struct diff_storage *storage;
	struct snapshot *snapshot;
	char *path;
	long ret;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	path = strndup_user(u64_to_user_ptr(karg.diff_storage_filename),
			    PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path) == -EINVAL ? -ENAMETOOLONG : PTR_ERR(path);
	if (!*path) {
		ret = -EINVAL;
		goto out_path;
	}

	snapshot = kzalloc(sizeof(*snapshot), GFP_KERNEL);
	if (!snapshot) {
		ret = -ENOMEM;
		goto out_path;
	}
	kref_init(&snapshot->kref);
	INIT_LIST_HEAD(&snapshot->devices);
	blksnap_event_queue_init(&snapshot->events);
	blksnap_chunk_pool_init(&snapshot->pool);
	uuid_gen(&snapshot->id);

	storage = blksnap_diff_storage_open(path, karg.diff_storage_limit_sect,
					    &snapshot->events);
	if (IS_ERR(storage)) {
		ret = PTR_ERR(storage);
		blksnap_event_queue_done(&snapshot->events);
		blksnap_chunk_pool_done(&snapshot->pool);
		kfree(snapshot);
		goto out_path;
	}
	snapshot->storage = storage;

	memcpy(karg.id.b, snapshot->id.b, sizeof(karg.id.b));
	if (copy_to_user(arg, &karg, sizeof(karg))) {
		blksnap_snapshot_put(snapshot);
		ret = -EFAULT;
		goto out_path;
	}
	mutex_lock(&snapshots_lock);
	list_add_tail(&snapshot->link, &snapshots);
	mutex_unlock(&snapshots_lock);
	pr_debug("snapshot %pUb created, storage %s\n", &snapshot->id, path);
	ret = 0;
out_path:
	kfree(path);
	return ret;
}

/* Stops copy-on-write on the device: the bio path will not see @da again. */
static void snapshot_unpublish(struct tracker *tracker)
{
	struct diff_area *da;

	lockdep_assert_held(&snapshots_lock);
	da = rcu_dereference_protected(tracker->diff_area,
				       lockdep_is_held(&snapshots_lock));
	if (!da)
		return;
	RCU_INIT_POINTER(tracker->diff_area, NULL);
	synchronize_rcu();
	diff_area_put(da);
}

static void snapshot_destroy(struct snapshot *snapshot)
{
	struct snapshot_device *sd, *next;

	lockdep_assert_held(&snapshots_lock);
	list_del(&snapshot->link);
	blksnap_event_queue_close(&snapshot->events);
	list_for_each_entry_safe(sd, next, &snapshot->devices, link) {
		if (sd->diff_area)
			blksnap_diff_area_stop(sd->diff_area);
		snapshot_unpublish(sd->tracker);
		if (sd->image)
			blksnap_snapimage_destroy(sd->image);
		if (sd->diff_area) {
			blksnap_diff_area_wait_stored(sd->diff_area);
			diff_area_put(sd->diff_area);
		}
		blksnap_tracker_put(sd->tracker);
		list_del(&sd->link);
		kfree(sd);
	}
	/*
	 * Whoever still holds the snapshot (an image open, a release queued)
	 * can no longer do I/O: give the storage back now, so that it is
	 * reusable when DESTROY returns.
	 */
	blksnap_diff_storage_release_file(snapshot->storage);
	pr_debug("snapshot %pUb destroyed\n", &snapshot->id);
	blksnap_snapshot_put(snapshot);
}

long blksnap_snapshot_ioctl_destroy(void __user *arg)
{
	struct blksnap_uuid id;
	struct snapshot *snapshot;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find(&id);
	if (snapshot)
		snapshot_destroy(snapshot);
	mutex_unlock(&snapshots_lock);
	/* Upstream's errno here, though every other command says ESRCH. */
	return snapshot ? 0 : -ENODEV;
}

/*
 * Thaws the devices frozen before @upto (all of them for NULL), in the
 * reverse order: lower devices first.  Thawing a filesystem writes its
 * superblock; on a loop device that write goes to the backing file, whose
 * filesystem must not be frozen any more.
 */
static void snapshot_thaw(struct snapshot *snapshot,
			  struct snapshot_device *upto)
{
	struct snapshot_device *sd = upto;

	if (!sd)
		sd = list_entry(&snapshot->devices, struct snapshot_device, link);
	list_for_each_entry_continue_reverse(sd, &snapshot->devices, link)
		if (blksnap_bdev_thaw(sd->tracker->bdev, sd->frozen_sb))
			pr_err("thawing " BLKSNAP_PG " failed\n",
			       BLKSNAP_PG_ARG(sd->tracker->bdev));
}

/*
 * Puts the devices in an order they can be frozen in (and thawed in,
 * backwards): a device before every device it stacks on.  Freezing a
 * filesystem writes back its dirty data; if the device under it (the one
 * holding a loop device's backing file, a dm member) were frozen first,
 * that writeback would wait for the thaw forever.  Devices that stack on
 * nothing keep the order they were added in.  A cycle (impossible for
 * real stacks) leaves the rest as it is.
 *
 * Return: 0 or -ENOMEM.
 */
static int snapshot_order_for_freeze(struct snapshot *snapshot)
{
	struct snapshot_device *sd, *other, *next;
	struct blksnap_stack *stacks;
	unsigned int i, n = 0;
	LIST_HEAD(ordered);

	list_for_each_entry(sd, &snapshot->devices, link)
		n++;
	stacks = kvcalloc(n, sizeof(*stacks), GFP_KERNEL);
	if (!stacks)
		return -ENOMEM;
	i = 0;
	list_for_each_entry(sd, &snapshot->devices, link) {
		sd->stack = &stacks[i++];
		blksnap_stack_build(sd->stack, sd->tracker->bdev->bd_dev);
	}

	while (!list_empty(&snapshot->devices)) {
		struct snapshot_device *top = NULL;

		/* The first device that no remaining device stacks on. */
		list_for_each_entry(sd, &snapshot->devices, link) {
			bool below = false;

			list_for_each_entry(other, &snapshot->devices, link)
				if (other != sd &&
				    snapshot_device_stacks_on(other, sd)) {
					below = true;
					break;
				}
			if (!below) {
				top = sd;
				break;
			}
		}
		if (!top)
			break;
		list_move_tail(&top->link, &ordered);
	}
	list_for_each_entry_safe(sd, next, &snapshot->devices, link)
		list_move_tail(&sd->link, &ordered);
	list_splice(&ordered, &snapshot->devices);
	list_for_each_entry(sd, &snapshot->devices, link)
		sd->stack = NULL;
	kvfree(stacks);
	return 0;
}

/*
 * After the switch the take has happened: copy-on-write runs and the CBT
 * maps have moved on, so nothing can be undone.  A device whose image
 * cannot be made is marked corrupted with the reason (SNAPSHOTINFO and the
 * corrupted event report it) and TAKE still succeeds for the others.
 */
static void snapshot_create_images(struct snapshot *snapshot)
{
	struct snapshot_device *sd;

	list_for_each_entry(sd, &snapshot->devices, link) {
		struct snapimage *image = blksnap_snapimage_create(sd->diff_area);

		if (IS_ERR(image)) {
			pr_err("no image for " BLKSNAP_PG ": %ld\n",
			       BLKSNAP_PG_ARG(sd->tracker->bdev),
			       PTR_ERR(image));
			blksnap_diff_area_set_corrupted(sd->diff_area, PTR_ERR(image));
			continue;
		}
		sd->image = image;
	}
}

/*
 * Everything that can fail without side effects is done before the
 * freeze, so that the frozen window holds only the switch itself.
 *
 * Writes in flight: a freeze waits for the filesystem's own writes, not
 * for writes to the raw device (O_DIRECT to the device, a VM image, a
 * write held below by a slow driver).  Such a write was stamped before the
 * switch, so it belongs to the image and to this take's CBT changes, and
 * it is not copied over (blksnap_tracker_cow()).  Copy-on-write of later writes
 * must then not read a chunk before it lands: it waits until every write
 * stamped before the switch has completed, and so does the take before it
 * shows the image.  That wait comes after the thaw: a write in flight may
 * itself wait for a frozen filesystem (a loop device's worker), and each
 * device's writes drain on their own, so no device waits on another's
 * take.
 */
static int snapshot_take_locked(struct snapshot *snapshot)
{
	struct snapshot_device *sd;
	ktime_t frozen;
	int ret = 0;

	if (snapshot->taken)
		return -EALREADY;
	if (list_empty(&snapshot->devices))
		return -ENODEV;

	ret = snapshot_order_for_freeze(snapshot);
	if (ret)
		return ret;
	list_for_each_entry(sd, &snapshot->devices, link) {
		sd->diff_area = blksnap_diff_area_new(snapshot, sd->tracker);
		if (IS_ERR(sd->diff_area)) {
			ret = PTR_ERR(sd->diff_area);
			sd->diff_area = NULL;
			goto fail;
		}
	}

	list_for_each_entry(sd, &snapshot->devices, link) {
		if (blksnap_debugfs_freeze_fails(sd->tracker->bdev->bd_dev))
			ret = -EBUSY;
		else
			ret = blksnap_bdev_freeze(sd->tracker->bdev,
						  &sd->frozen_sb);
		if (ret) {
			pr_err("freezing " BLKSNAP_PG " failed: %d\n",
			       BLKSNAP_PG_ARG(sd->tracker->bdev),
			       ret);
			snapshot_thaw(snapshot, sd);
			goto fail;
		}
	}
	frozen = ktime_get();
	list_for_each_entry(sd, &snapshot->devices, link) {
		/* Published after @before is set: blksnap_tracker_cow() reads it. */
		sd->diff_area->before = blksnap_cbt_map_switch(&sd->tracker->cbt);
		diff_area_get(sd->diff_area);
		rcu_assign_pointer(sd->tracker->diff_area, sd->diff_area);
	}
	/* Pairs with blksnap_tracker_cow(): every diff area is visible before. */
	smp_store_release(&snapshot->active, true);
	snapshot_thaw(snapshot, NULL);
	pr_debug("snapshot %pUb taken, devices frozen for %lld us\n",
		 &snapshot->id, ktime_us_delta(ktime_get(), frozen));
	snapshot->taken = true;

	list_for_each_entry(sd, &snapshot->devices, link) {
		blksnap_cbt_map_wait_drained(&sd->tracker->cbt,
					     sd->diff_area->before.epoch);
		WRITE_ONCE(sd->diff_area->drained, true);
	}

	snapshot_create_images(snapshot);
	return 0;

fail:
	list_for_each_entry(sd, &snapshot->devices, link) {
		if (sd->diff_area)
			diff_area_put(sd->diff_area);
		sd->diff_area = NULL;
	}
	return ret;
}

/*
 * A device whose size changed since the last ioctl still has the map of the
 * old size; rebuilding it allocates, and the rebuild would come at the next
 * CTL and wipe the switch the take makes.  So every device's capacity is
 * checked before the take, under its ctl_lock, which ranks above
 * snapshots_lock: the trackers are collected first and the lock dropped.
 * A snapshot that is missing or taken already is left to the take.
 */
static int snapshot_check_capacities(const struct blksnap_uuid *id)
{
	struct tracker **trackers = NULL;
	struct snapshot_device *sd;
	struct snapshot *snapshot;
	unsigned int n = 0, i;
	int ret = 0;

	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find(id);
	if (snapshot && !snapshot->taken)
		list_for_each_entry(sd, &snapshot->devices, link)
			n++;
	if (n)
		trackers = kcalloc(n, sizeof(*trackers), GFP_KERNEL);
	if (trackers) {
		i = 0;
		list_for_each_entry(sd, &snapshot->devices, link) {
			tracker_get(sd->tracker);
			trackers[i++] = sd->tracker;
		}
	}
	mutex_unlock(&snapshots_lock);
	if (n && !trackers)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		mutex_lock(&trackers[i]->ctl_lock);
		if (!ret)
			ret = blksnap_tracker_check_capacity(trackers[i]);
		mutex_unlock(&trackers[i]->ctl_lock);
		blksnap_tracker_put(trackers[i]);
	}
	kfree(trackers);
	return ret;
}

long blksnap_snapshot_ioctl_take(void __user *arg)
{
	struct blksnap_uuid id;
	struct snapshot *snapshot;
	long ret;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	ret = snapshot_check_capacities(&id);
	if (ret)
		return ret;
	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find(&id);
	ret = snapshot ? snapshot_take_locked(snapshot) : -ESRCH;
	mutex_unlock(&snapshots_lock);
	return ret;
}

/*
 * As upstream: a null @ids only counts (count = number of snapshots, 0
 * returned whatever count was).  Otherwise up to count ids are written,
 * count becomes the number written, and ENODATA says that more exist.
 */
long blksnap_snapshot_ioctl_collect(void __user *arg)
{
	struct blksnap_snapshot_collect karg;
	struct blksnap_uuid *ids = NULL;
	struct snapshot *snapshot;
	u32 n = 0, room;
	long ret = 0;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	room = karg.ids ? min(karg.count, BLKSNAP_COLLECT_MAX) : 0;
	/* Allocated before locking, for the room given, not the list's size. */
	if (room) {
		ids = kvcalloc(room, sizeof(*ids), GFP_KERNEL);
		if (!ids)
			return -ENOMEM;
	}

	mutex_lock(&snapshots_lock);
	list_for_each_entry(snapshot, &snapshots, link) {
		if (!karg.ids) {
			n++;
			continue;
		}
		if (n == room) {
			ret = -ENODATA;
			break;
		}
		memcpy(ids[n++].b, snapshot->id.b, sizeof(ids->b));
	}
	mutex_unlock(&snapshots_lock);

	if (ids && n && copy_to_user(u64_to_user_ptr(karg.ids), ids,
				     array_size(n, sizeof(*ids))))
		ret = -EFAULT;
	kvfree(ids);
	karg.count = n;
	if (copy_to_user(arg, &karg, sizeof(karg)))
		ret = -EFAULT;
	return ret;
}

long blksnap_snapshot_ioctl_wait_event(void __user *arg)
{
	struct blksnap_snapshot_event *karg;
	struct snapshot *snapshot;
	struct event *event;
	long ret = 0;

	/* Only the id and the timeout come in; all 4096 bytes go out. */
	karg = kzalloc(sizeof(*karg), GFP_KERNEL);
	if (!karg)
		return -ENOMEM;
	if (copy_from_user(karg, arg,
			   offsetofend(struct blksnap_snapshot_event,
				       timeout_ms))) {
		ret = -EFAULT;
		goto out;
	}

	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find(&karg->id);
	if (snapshot)
		blksnap_snapshot_get(snapshot);
	mutex_unlock(&snapshots_lock);
	if (!snapshot) {
		ret = -ESRCH;
		goto out;
	}

	event = blksnap_event_wait(&snapshot->events, karg->timeout_ms);
	blksnap_snapshot_put(snapshot);
	if (IS_ERR(event)) {
		ret = PTR_ERR(event);
		goto out;
	}
	karg->code = event->code;
	karg->time_label = ktime_to_ns(event->time);
	memcpy(karg->data, event->data,
	       min_t(size_t, event->data_size, sizeof(karg->data)));
	blksnap_event_free(event);
	if (copy_to_user(arg, karg, sizeof(*karg)))
		ret = -EFAULT;
out:
	kfree(karg);
	return ret;
}

static int snapshot_device_supported(struct block_device *bdev)
{
	if (bdev_get_integrity(bdev))
		return -EOPNOTSUPP;
#ifdef CONFIG_BLK_INLINE_ENCRYPTION
	if (bdev_get_queue(bdev)->crypto_profile)
		return -EOPNOTSUPP;
#endif
	return 0;
}

long blksnap_snapshot_ctl_add(struct tracker *tracker, void __user *opt,
			      u32 optlen)
{
	struct blksnap_snapshotadd arg;
	struct block_device *bdev = tracker->bdev;
	struct snapshot_device *sd, *other;
	struct snapshot *snapshot, *owner;
	long ret;

	if (optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	ret = snapshot_device_supported(bdev);
	if (ret)
		return ret;
	sd = kzalloc(sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return -ENOMEM;

	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find(&arg.id);
	owner = snapshot_find_tracker(tracker, &other);
	if (!snapshot)
		ret = -ESRCH;
	else if (owner == snapshot)
		ret = -EALREADY;
	else if (owner || snapshot->taken)
		ret = -EBUSY;
	else
		ret = blksnap_diff_storage_admit(snapshot->storage, bdev);
	if (!ret) {
		tracker_get(tracker);
		sd->tracker = tracker;
		list_add_tail(&sd->link, &snapshot->devices);
		sd = NULL;
	}
	mutex_unlock(&snapshots_lock);
	kfree(sd);
	return ret;
}

long blksnap_snapshot_ctl_info(struct tracker *tracker, void __user *opt,
			       u32 optlen)
{
	struct blksnap_snapshotinfo info = {};
	struct snapshot_device *sd;

	if (optlen < sizeof(info))
		return -EINVAL;

	/*
	 * A device in no snapshot, or not taken yet, answers zeros: no error,
	 * no image, as upstream's does.
	 */
	mutex_lock(&snapshots_lock);
	if (snapshot_find_tracker(tracker, &sd) && sd->diff_area) {
		info.error_code = blksnap_diff_area_error(sd->diff_area);
		if (sd->image)
			strscpy(info.image, snapimage_name(sd->image),
				sizeof(info.image));
	}
	mutex_unlock(&snapshots_lock);

	if (copy_to_user(opt, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/**
 * blksnap_tracker_cow() - copy-on-write entry of the bio path
 * @tracker:	the tracker of the bio's device
 * @bio:	a bio that changes data
 * @stamp:	what the filter stamped on @bio for @tracker
 *
 * Holds @bio (blksnap_filter_hold()) while the original content of its
 * chunks is read; see blksnap_diff_area_cow_bio().
 */
void blksnap_tracker_cow(struct tracker *tracker, struct bio *bio,
			 struct cbt_stamp stamp)
{
	sector_t base = blksnap_bdev_start_sect(tracker->bdev);
	sector_t start, end, first, last;
	struct diff_area *da;

	/*
	 * The bio may address a partition of the tracked disk or the disk
	 * of a tracked partition: compare in whole-disk sectors.
	 */
	start = blksnap_bio_disk_sector(bio);
	end = start + bio_sectors(bio);
	first = max(start, base);
	last = min(end, base + bdev_nr_sectors(tracker->bdev));
	if (first >= last)
		return;

	rcu_read_lock();
	da = rcu_dereference(tracker->diff_area);
	if (da && !kref_get_unless_zero(&da->kref))
		da = NULL;
	rcu_read_unlock();
	if (!da)
		return;
	/* Stamped before the switch: part of the image (the take waits). */
	if (stamp.number == da->before.number)
		goto out;
	/* Pairs with the take: other devices may not be switched yet. */
	if (!smp_load_acquire(&da->snapshot->active))
		goto out;
	/*
	 * Reading the original before the writes stamped before the switch
	 * land would save content without them.  (Equal epochs only after a
	 * test switch of the map during the snapshot: this write is then
	 * counted in the slot itself and must not wait for it.)
	 */
	if (!READ_ONCE(da->drained) && stamp.epoch != da->before.epoch &&
	    !blksnap_cbt_map_drained(&tracker->cbt, da->before.epoch)) {
		if (bio->bi_opf & REQ_NOWAIT) {
			blksnap_filter_refuse(bio);
			goto out;
		}
		blksnap_cbt_map_wait_drained(&tracker->cbt, da->before.epoch);
	}
	blksnap_diff_area_cow_bio(da, bio, first - base, last - first);
out:
	diff_area_put(da);
}

/*
 * The filter goes away (the device was removed): a taken snapshot of the
 * device can no longer be kept consistent, one not yet taken just loses
 * the device.
 */
void blksnap_tracker_release_snapshot(struct tracker *tracker)
{
	struct snapshot_device *sd;
	struct snapshot *snapshot;

	mutex_lock(&snapshots_lock);
	snapshot = snapshot_find_tracker(tracker, &sd);
	if (snapshot) {
		if (sd->diff_area) {
			blksnap_diff_area_set_corrupted(sd->diff_area, -ENODEV);
			snapshot_unpublish(tracker);
		} else {
			list_del(&sd->link);
			blksnap_tracker_put(tracker);
			kfree(sd);
		}
	}
	mutex_unlock(&snapshots_lock);
}

int blksnap_tracker_may_detach(struct tracker *tracker)
{
	struct snapshot_device *sd;
	int ret = 0;

	mutex_lock(&snapshots_lock);
	if (snapshot_find_tracker(tracker, &sd))
		ret = -EBUSY;
	mutex_unlock(&snapshots_lock);
	return ret;
}

void blksnap_snapshot_show(struct seq_file *m)
{
	struct snapshot_device *sd;
	struct snapshot *snapshot;

	/* What each changed chunk costs once stored; unchanged ones cost 0. */
	seq_printf(m, "bytes_per_changed_chunk %zu\n", sizeof(struct chunk));
	mutex_lock(&snapshots_lock);
	list_for_each_entry(snapshot, &snapshots, link) {
		struct diff_storage *ds = snapshot->storage;
		unsigned long spare, used;

		blksnap_chunk_pool_stat(&snapshot->pool, &used, &spare);
		seq_printf(m, "snapshot %pUb taken %d storage_sectors %llu used %llu limit %llu error %d pool_pages %lu pool_spare %lu pool_limit %lu\n",
			   &snapshot->id, snapshot->taken,
			   (unsigned long long)ds->capacity,
			   (unsigned long long)ds->filled,
			   (unsigned long long)ds->limit,
			   diff_storage_error(ds), used, spare,
			   snapshot->pool.limit);
		list_for_each_entry(sd, &snapshot->devices, link) {
			if (sd->diff_area)
				blksnap_diff_area_show(sd->diff_area, m);
			else
				seq_printf(m, "  device " BLKSNAP_PG " not taken\n",
					   BLKSNAP_PG_ARG(sd->tracker->bdev));
		}
	}
	mutex_unlock(&snapshots_lock);
}

int blksnap_snapshot_init(void)
{
	int ret;

	blksnap_snapshot_wq = alloc_workqueue("blksnap", WQ_UNBOUND | WQ_MEM_RECLAIM,
					      0);
	if (!blksnap_snapshot_wq)
		return -ENOMEM;
	/*
	 * Apart from the stores, which may wait long for the storage and
	 * for memory: a load's completion releases held writes of the
	 * original, which reclaim itself may be waiting for.  Per-CPU, so
	 * the release runs on the CPU that took the read's completion, with
	 * no wake-up of another CPU in the latency of every held write
	 * (module/README.md, "Released after the read").
	 */
	blksnap_cow_wq = alloc_workqueue("blksnap-cow",
					 WQ_PERCPU | WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!blksnap_cow_wq) {
		ret = -ENOMEM;
		goto fail_wq;
	}
	ret = blksnap_chunk_init();
	if (ret)
		goto fail_cow_wq;
	ret = blksnap_diff_area_init();
	if (ret)
		goto fail_chunk;
	ret = blksnap_diff_storage_init();
	if (ret)
		goto fail_diff_area;
	ret = blksnap_snapimage_init();
	if (ret)
		goto fail_storage;
	return 0;

fail_storage:
	blksnap_diff_storage_done();
fail_diff_area:
	blksnap_diff_area_done();
fail_chunk:
	blksnap_chunk_done();
fail_cow_wq:
	destroy_workqueue(blksnap_cow_wq);
fail_wq:
	destroy_workqueue(blksnap_snapshot_wq);
	return ret;
}

/* Module exit, once no ioctl and no hook can run any more. */
void blksnap_snapshot_destroy_all(void)
{
	struct snapshot *snapshot, *next;

	mutex_lock(&snapshots_lock);
	list_for_each_entry_safe(snapshot, next, &snapshots, link)
		snapshot_destroy(snapshot);
	mutex_unlock(&snapshots_lock);
}

void blksnap_snapshot_done(void)
{
	blksnap_snapimage_done();
	/*
	 * Draining runs the last loads, stores and releases of diff areas;
	 * a finished load queues a store, so loads drain first.
	 */
	destroy_workqueue(blksnap_cow_wq);
	destroy_workqueue(blksnap_snapshot_wq);
	blksnap_diff_storage_done();
	blksnap_diff_area_done();
	blksnap_chunk_done();
}
