// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/blksnap-control: the module-wide door (version, snapshot life cycle).
 *
 * Errors common to every command:
 *   EPERM   the caller lacks CAP_SYS_ADMIN (checked before anything else)
 *   ENOTTY  the command number is not one of ours
 *   EFAULT  the argument points to memory the caller cannot access
 * The snapshot commands document their own errors in snapshot.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <uapi/linux/blksnap.h>
#include "ctrl.h"
#include "snapshot.h"
#include "version.h"

static long ctrl_version(void __user *arg)
{
	static const struct blksnap_version version = {
		.major = BLKSNAP_VERSION_MAJOR,
		.minor = BLKSNAP_VERSION_MINOR,
		.revision = BLKSNAP_VERSION_REVISION,
		.build = BLKSNAP_VERSION_BUILD,
	};

	if (copy_to_user(arg, &version, sizeof(version)))
		return -EFAULT;
	return 0;
}

struct ctrl_ioctl {
	unsigned int cmd;
	long (*fn)(void __user *arg);
};

/*
 * Indexed by _IOC_NR(); the full command is compared too, so a right number
 * with a wrong size or direction is rejected like any unknown command.
 */
static const struct ctrl_ioctl ctrl_ioctls[] = {
	[blksnap_ioctl_version] = { IOCTL_BLKSNAP_VERSION, ctrl_version },
	[blksnap_ioctl_snapshot_create] = {
		IOCTL_BLKSNAP_SNAPSHOT_CREATE, blksnap_snapshot_ioctl_create },
	[blksnap_ioctl_snapshot_destroy] = {
		IOCTL_BLKSNAP_SNAPSHOT_DESTROY, blksnap_snapshot_ioctl_destroy },
	[blksnap_ioctl_snapshot_take] = {
		IOCTL_BLKSNAP_SNAPSHOT_TAKE, blksnap_snapshot_ioctl_take },
	[blksnap_ioctl_snapshot_collect] = {
		IOCTL_BLKSNAP_SNAPSHOT_COLLECT, blksnap_snapshot_ioctl_collect },
	[blksnap_ioctl_snapshot_wait_event] = {
		IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, blksnap_snapshot_ioctl_wait_event },
};

static long ctrl_unlocked_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	unsigned int nr = _IOC_NR(cmd);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (_IOC_TYPE(cmd) != BLKSNAP_IOCTL_MAGIC ||
	    nr >= ARRAY_SIZE(ctrl_ioctls) || ctrl_ioctls[nr].cmd != cmd)
		return -ENOTTY;
	return ctrl_ioctls[nr].fn((void __user *)arg);
}

static const struct file_operations ctrl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ctrl_unlocked_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ctrl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = BLKSNAP_CTL,
	.fops = &ctrl_fops,
	.mode = 0600,
};

int blksnap_ctrl_init(void)
{
	return misc_register(&ctrl_misc);
}

void blksnap_ctrl_done(void)
{
	misc_deregister(&ctrl_misc);
}
