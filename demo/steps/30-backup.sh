# shellcheck shell=bash
# Backups: a full and a CBT-incremental backup of a live ext4 into a
# deduplicating repository, then a restore that is read back and compared.

BK_IMG=/tmp/demo-backup-src.img
BK_REPO=/tmp/demo-repo
BK_MNT=/tmp/demo-backup-live
BK_OUT=/tmp/demo-restored.img
# New repositories are encrypted; every command reads the password from
# this file (never from the command line). Lose it and the backups are lost.
export BLKSNAP_PASSWORD_FILE=/tmp/demo-password

# Steps run in subshells: find the loop device again each time.
bk_dev() { losetup -j "$BK_IMG" -n -O NAME | head -n1; }
out_dev() { losetup -j "$BK_OUT" -n -O NAME | head -n1; }

make_backup_fs() {
	local dev
	echo "demo password $$" >"$BLKSNAP_PASSWORD_FILE" && chmod 600 "$BLKSNAP_PASSWORD_FILE" &&
	truncate -s 128M "$BK_IMG" && dev=$(losetup -f --show "$BK_IMG") &&
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" &&
		mkdir -p "$BK_MNT" && mount "$dev" "$BK_MNT" &&
		for i in 1 2 3 4 5 6 7 8; do head -c 2M /dev/urandom >"$BK_MNT/file$i"; done &&
		echo "first version" >"$BK_MNT/notes.txt" && sync && echo "$dev holds: $(ls "$BK_MNT" | xargs)"
}
# The key derivation is made cheaper than its default (64 MiB, 3 passes)
# only because the demo runs under CPU emulation. No --storage: as on a
# machine with one disk, blksnap preallocates the difference storage on the
# ext4 being backed up (the only one mounted), says so, and removes it.
backup_create() {
	blksnap backup create --device "$(bk_dev)" --repo "$BK_REPO" --limit 32M \
		--kdf-memory 16M --kdf-iterations 2 "$@"
}
change_one_file() {
	echo "second version" >"$BK_MNT/notes.txt" && head -c 64K /dev/urandom |
		dd of="$BK_MNT/file3" bs=64K seek=5 conv=notrunc status=none && sync &&
		(cd "$BK_MNT" && md5sum notes.txt file*) >/tmp/demo-backup.md5
}
# The target is a block device: restore opens it exclusively and --verify
# reads it back with O_DIRECT (the demo's /tmp is a tmpfs, which has none).
restore_to_disk() {
	local dev
	truncate -s 128M "$BK_OUT" && dev=$(losetup -f --show "$BK_OUT") &&
		blksnap backup restore latest --repo "$BK_REPO" --to "$dev" --verify
}
restored_files_match() {
	local mnt=/tmp/demo-restored-mnt rc
	mkdir -p "$mnt" && mount -o ro "$(out_dev)" "$mnt" || return 1
	(cd "$mnt" && md5sum -c /tmp/demo-backup.md5)
	rc=$?
	umount "$mnt"
	return $rc
}
# File-level restore: the first backup, made before notes.txt changed, is
# mounted straight from the repository (served over NBD to the kernel's nbd
# client by a background blksnap process) and one file is copied out.
BK_OLD=/tmp/demo-backup-first
mount_first_backup() {
	local id
	id=$(blksnap backup list --repo "$BK_REPO" | awk 'NR == 2 { print $1 }') && mkdir -p "$BK_OLD" &&
		blksnap backup mount "$id" --repo "$BK_REPO" "$BK_OLD"
}
copy_one_file_out() {
	cp "$BK_OLD/notes.txt" /tmp/demo-notes-first.txt && grep -qx "first version" /tmp/demo-notes-first.txt &&
		echo "notes.txt of the first backup says: $(cat /tmp/demo-notes-first.txt)"
}
umount_first_backup() {
	blksnap backup umount "$BK_OLD" && ! compgen -G '/sys/block/nbd*/pid' >/dev/null &&
		rmdir "$BK_OLD" && rm -f /tmp/demo-notes-first.txt
}
# Unbinding the loop device detaches its blksnap filter too.
cleanup_backup_fs() {
	umount "$BK_MNT" && losetup -d "$(bk_dev)" && losetup -d "$(out_dev)" && rm -rf "$BK_IMG" "$BK_OUT" "$BK_REPO" "$BLKSNAP_PASSWORD_FILE"
}

demo_section "Backups: full, incremental, restore" \
	"blksnap backup create snapshots a live device, stores its image as deduplicated, compressed, encrypted chunks in a repository directory and destroys the snapshot. The next backup reads only the blocks CBT says changed."
demo_step "a 128 MiB ext4 on a loop device, mounted, with files" -- make_backup_fs
demo_step "full backup (the filter is attached on the way, so tracking starts)" -- backup_create --tag first
demo_step "change one file and a few bytes of another" -- change_one_file
demo_step "incremental backup: reads only the blocks CBT says changed" -- backup_create --tag second
demo_step "the repository's backups" -- blksnap backup list --repo "$BK_REPO"
demo_step "restore the latest backup to a new disk, read it back and compare" -- restore_to_disk
demo_step "the restored filesystem holds every file as it was at the incremental" -- restored_files_match
demo_step "mount the first backup read-only, straight from the repository" -- mount_first_backup
demo_step "copy one file out of it: notes.txt as it was at the first backup" -- copy_one_file_out
demo_check "backup umount leaves no nbd device attached" -- umount_first_backup
demo_check "unmount, remove the loop devices and the repository" -- cleanup_backup_fs
