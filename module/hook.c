// SPDX-License-Identifier: GPL-2.0
/*
 * Redirection of kernel functions with ftrace, for a kernel without the
 * blkfilter patch.
 *
 * Each hooked function gets an ftrace_ops with IPMODIFY: its callback
 * rewrites the saved instruction pointer so that the function returns into
 * our replacement instead of running its own body.  Calls that come from
 * this module are left alone, which is how replacements call the original
 * and how the module's own bios bypass the filter.
 *
 * Recursion safety.  "From this module" is judged by the return address
 * ftrace reports (parent_ip), so it holds only if every call to a hooked
 * function in module text is a real call.  A tail jump (the compiler's
 * sibling-call optimisation, e.g. of "submit_bio_noacct(bio); return;")
 * would leave our caller's return address, outside the module, and be
 * redirected into the replacement again.  Kbuild therefore builds the
 * module with -fno-optimize-sibling-calls: that is a property of the build,
 * not a hope about where the compiler puts a call.
 *
 * Unload safety.  After unregister_ftrace_function() no new call is
 * redirected, but tasks may still run replacement code: sleeping inside the
 * original called from a replacement, or preempted anywhere in it.  A
 * percpu_ref counts tasks between blksnap_hook_enter() and blksnap_hook_leave().  The few
 * instructions outside that bracket (the landing of the redirect before
 * blksnap_hook_enter(), the return after blksnap_hook_leave()) contain no voluntary sleep,
 * and synchronize_rcu_tasks() waits until every task has passed a
 * voluntary context switch.  So removal:
 *  1. unregisters the ftrace ops: no new redirects;
 *  2. synchronize_rcu_tasks(): every redirected task has reached
 *     blksnap_hook_enter() and holds a reference (ftrace does this too for
 *     dynamic ops on preemptible kernels; we do not rely on it);
 *  3. kills the percpu_ref and waits until the references drain;
 *  4. synchronize_rcu_tasks() again: every task has left the return path.
 * Only then may the module text go away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/completion.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>
#include "compat.h"
#include "hook.h"

static struct percpu_ref hook_users;
static DECLARE_COMPLETION(hook_users_gone);

static void hook_users_release(struct percpu_ref *ref)
{
	complete(&hook_users_gone);
}

bool blksnap_hook_enter(void)
{
	return percpu_ref_tryget_live(&hook_users);
}

void blksnap_hook_leave(void)
{
	percpu_ref_put(&hook_users);
}

typedef unsigned long (*kallsyms_lookup_name_t)(const char *name);

/*
 * kallsyms_lookup_name() is no longer exported; a kprobe resolves its
 * address without any address being written into the module.
 */
static kallsyms_lookup_name_t hook_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	kallsyms_lookup_name_t fn;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot resolve kallsyms_lookup_name: %d\n", ret);
		return NULL;
	}
	fn = (kallsyms_lookup_name_t)kp.addr;
	unregister_kprobe(&kp);
	return fn;
}

static void notrace hook_thunk(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops,
			       struct BLKSNAP_FTRACE_REGS *fregs)
{
	struct hook *hook = container_of(ops, struct hook, ops);

	if (!within_module(parent_ip, THIS_MODULE))
		blksnap_ftrace_set_ip(fregs, (unsigned long)hook->replacement);
}

static int hook_arm(struct hook *hook)
{
	int ret;

	hook->ops.func = hook_thunk;
	hook->ops.flags = BLKSNAP_FTRACE_OPS_FLAGS;
	ret = ftrace_set_filter_ip(&hook->ops, hook->address, 0, 0);
	if (ret) {
		pr_err("cannot filter %s: %d\n", hook->name, ret);
		return ret;
	}
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		pr_err("cannot redirect %s: %d\n", hook->name, ret);
		ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
	}
	return ret;
}

/*
 * unregister_ftrace_function() fails only when ftrace cannot call the ops
 * any more anyway: ftrace was shut down after an internal error (ENODEV,
 * every callback stopped), or the ops is not registered (EBUSY, or not on
 * the list).  So a failure leaves nothing that could enter the module after
 * it is gone; it is reported, and removal goes on.  The filter is dropped
 * only after a successful unregistration, when ftrace no longer uses it.
 */
static void hook_disarm(struct hook *hook)
{
	int ret;

	ret = unregister_ftrace_function(&hook->ops);
	if (ret) {
		pr_err("stopping the redirect of %s failed (%d): ftrace no longer calls it\n",
		       hook->name, ret);
		return;
	}
	ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
}

int blksnap_hook_install(struct hook *hooks, unsigned int count)
{
	kallsyms_lookup_name_t lookup;
	unsigned int i;
	int ret;

	lookup = hook_find_kallsyms();
	if (!lookup)
		return -ENOENT;
	for (i = 0; i < count; i++) {
		hooks[i].address = lookup(hooks[i].name);
		if (!hooks[i].address) {
			pr_err("symbol %s not found\n", hooks[i].name);
			return -ENOENT;
		}
	}

	ret = percpu_ref_init(&hook_users, hook_users_release, 0, GFP_KERNEL);
	if (ret)
		return ret;

	for (i = 0; i < count; i++) {
		ret = hook_arm(&hooks[i]);
		if (ret)
			goto undo;
	}
	return 0;
undo:
	while (i--)
		hook_disarm(&hooks[i]);
	synchronize_rcu_tasks();
	percpu_ref_kill(&hook_users);
	wait_for_completion(&hook_users_gone);
	synchronize_rcu_tasks();
	percpu_ref_exit(&hook_users);
	return ret;
}

void blksnap_hook_remove(struct hook *hooks, unsigned int count)
{
	unsigned int i;

	for (i = count; i--;)
		hook_disarm(&hooks[i]);
	synchronize_rcu_tasks();
	percpu_ref_kill(&hook_users);
	wait_for_completion(&hook_users_gone);
	synchronize_rcu_tasks();
	percpu_ref_exit(&hook_users);
}
