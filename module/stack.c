// SPDX-License-Identifier: GPL-2.0
/*
 * Block device stacks: which devices the I/O of one device lands on.
 *
 * A loop device writes its backing file, which lives on the filesystem of
 * another device; a device-mapper or md device writes its members.  The
 * kernel keeps these relations private to the drivers (struct loop_device,
 * the holder lists of block/holder.c), but shows them through sysfs, a
 * stable interface: <dev>/loop/backing_file and <dev>/slaves/.  That is
 * what is read here, recursively, by the task that asks (its view of /sys
 * and of the backing file's path is the one that matters to it).
 *
 * Used to freeze stacked devices top-down at a take and to refuse a
 * difference storage that lies, through any stack, on a tracked device.
 * Only a few small attributes are read per device; never in the bio path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "compat.h"
#include "stack.h"

/* Longest stack followed: a loop over a file over dm over md is 4. */
#define STACK_DEPTH_MAX	8

/* Reads a small sysfs attribute, without the trailing newline. */
static int stack_read_attr(const char *path, char *buf, size_t size)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t n;

	file = filp_open(path, O_RDONLY | O_LARGEFILE, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_read(file, buf, size - 1, &pos);
	fput(file);
	if (n < 0)
		return n;
	buf[n] = '\0';
	strim(buf);
	return 0;
}

static bool stack_parse_dev(const char *text, dev_t *dev)
{
	unsigned int major, minor;

	if (sscanf(text, "%u:%u", &major, &minor) != 2)
		return false;
	*dev = MKDEV(major, minor);
	return true;
}

/* The whole disk of @dev: a partition's sysfs directory is in its disk's. */
static dev_t stack_whole(dev_t dev, char *path, char *buf)
{
	dev_t whole;

	snprintf(path, PATH_MAX, "/sys/dev/block/%u:%u/partition",
		 MAJOR(dev), MINOR(dev));
	if (stack_read_attr(path, buf, PAGE_SIZE))
		return dev;
	snprintf(path, PATH_MAX, "/sys/dev/block/%u:%u/../dev", MAJOR(dev),
		 MINOR(dev));
	if (stack_read_attr(path, buf, PAGE_SIZE) ||
	    !stack_parse_dev(buf, &whole))
		return dev;
	return whole;
}

static bool stack_has(const struct blksnap_stack *stack, dev_t dev)
{
	unsigned int i;

	for (i = 0; i < stack->count; i++)
		if (stack->dev[i] == dev)
			return true;
	return false;
}

struct stack_walk {
	struct blksnap_stack *stack;
	char *path;
	char *buf;
};

static void stack_add(struct stack_walk *walk, dev_t dev, unsigned int depth);

/* The device under a loop device's backing file, if it has one. */
static void stack_add_loop(struct stack_walk *walk, dev_t dev,
			   unsigned int depth)
{
	struct inode *inode;
	struct path file;
	dev_t below = 0;

	snprintf(walk->path, PATH_MAX, "/sys/dev/block/%u:%u/loop/backing_file",
		 MAJOR(dev), MINOR(dev));
	if (stack_read_attr(walk->path, walk->buf, PAGE_SIZE) ||
	    kern_path(walk->buf, LOOKUP_FOLLOW, &file))
		return;
	inode = d_inode(file.dentry);
	if (S_ISBLK(inode->i_mode))
		below = inode->i_rdev;
	else if (inode->i_sb->s_bdev)
		below = inode->i_sb->s_bdev->bd_dev;
	path_put(&file);
	if (below)
		stack_add(walk, below, depth + 1);
}

struct stack_slaves {
	struct dir_context ctx;
	struct stack_walk *walk;
	char (*names)[BDEVNAME_SIZE];
	unsigned int count;
};

static BLKSNAP_FILLDIR_RET stack_slave_name(struct dir_context *ctx,
					    const char *name, int len,
					    loff_t pos, u64 ino,
					    unsigned int type)
{
	struct stack_slaves *slaves = container_of(ctx, struct stack_slaves,
						   ctx);

	if (name[0] == '.' || len >= BDEVNAME_SIZE)
		return BLKSNAP_FILLDIR_GO_ON;
	if (slaves->count == BLKSNAP_STACK_MAX)
		return BLKSNAP_FILLDIR_STOP;
	memcpy(slaves->names[slaves->count], name, len);
	slaves->names[slaves->count][len] = '\0';
	slaves->count++;
	return BLKSNAP_FILLDIR_GO_ON;
}

/* The members of a dm or md device (its "slaves" in sysfs). */
static void stack_add_slaves(struct stack_walk *walk, dev_t dev,
			     unsigned int depth)
{
	struct stack_slaves slaves = { .ctx.actor = stack_slave_name };
	struct file *dir;
	unsigned int i;
	dev_t below;

	slaves.names = kcalloc(BLKSNAP_STACK_MAX, BDEVNAME_SIZE, GFP_KERNEL);
	if (!slaves.names)
		return;
	snprintf(walk->path, PATH_MAX, "/sys/dev/block/%u:%u/slaves",
		 MAJOR(dev), MINOR(dev));
	dir = filp_open(walk->path, O_RDONLY | O_DIRECTORY, 0);
	if (!IS_ERR(dir)) {
		iterate_dir(dir, &slaves.ctx);
		fput(dir);
	}
	for (i = 0; i < slaves.count; i++) {
		snprintf(walk->path, PATH_MAX, "/sys/class/block/%s/dev",
			 slaves.names[i]);
		if (!stack_read_attr(walk->path, walk->buf, PAGE_SIZE) &&
		    stack_parse_dev(walk->buf, &below))
			stack_add(walk, below, depth + 1);
	}
	kfree(slaves.names);
}

static void stack_add(struct stack_walk *walk, dev_t dev, unsigned int depth)
{
	struct blksnap_stack *stack = walk->stack;
	unsigned int i;

	if (depth > STACK_DEPTH_MAX || stack->count == BLKSNAP_STACK_MAX ||
	    stack_has(stack, dev))
		return;
	i = stack->count++;
	stack->dev[i] = dev;
	stack->whole[i] = stack_whole(dev, walk->path, walk->buf);
	stack_add_loop(walk, dev, depth);
	stack_add_slaves(walk, dev, depth);
}

/**
 * blksnap_stack_build() - find the devices under a device
 * @stack:	out: @top first, then every device found below it
 * @top:	the device
 *
 * Best effort: a stack deeper or wider than the bounds, or a relation
 * sysfs does not show, is left out.  On allocation failure only @top is
 * listed.
 */
void blksnap_stack_build(struct blksnap_stack *stack, dev_t top)
{
	struct stack_walk walk = { .stack = stack };

	stack->count = 0;
	walk.path = kmalloc(PATH_MAX, GFP_KERNEL);
	walk.buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (walk.path && walk.buf) {
		stack_add(&walk, top, 0);
	} else {
		stack->dev[0] = top;
		stack->whole[0] = top;
		stack->count = 1;
	}
	kfree(walk.path);
	kfree(walk.buf);
}

/**
 * blksnap_stack_reaches() - whether I/O of the stack can land on a device
 * @stack:	from blksnap_stack_build()
 * @from:	first entry to consider: 0 for the whole stack, 1 for what is
 *		below its top device
 * @dev:	the device
 * @whole:	its whole disk (@dev itself for a disk)
 *
 * True if @dev is in the stack, is the disk of a device in it, or is a
 * partition of a disk in it: the filters of a disk and its partitions see
 * each other's writes.
 */
bool blksnap_stack_reaches(const struct blksnap_stack *stack,
			   unsigned int from, dev_t dev, dev_t whole)
{
	unsigned int i;

	for (i = from; i < stack->count; i++)
		if (dev == stack->dev[i] || dev == stack->whole[i] ||
		    whole == stack->dev[i])
			return true;
	return false;
}
