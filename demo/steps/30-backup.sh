# shellcheck shell=bash
# Backups: a full and a CBT-incremental backup of a live ext4 into a
# deduplicating repository, then a restore that is read back and compared;
# then the same ext4 to an S3 server, encrypted, restored bit for bit.

BK_IMG=/tmp/demo-backup-src.img
BK_REPO=/tmp/demo-repo
BK_MNT=/tmp/demo-backup-live
BK_OUT=/tmp/demo-restored.img
# New repositories are encrypted; every command reads the password from
# this file (never from the command line). Lose it and the backups are lost.
export BLKSNAP_PASSWORD_FILE=/tmp/demo-password
# The S3 server: S3Proxy run in this guest (a background process on
# 127.0.0.1, over a directory of /tmp), so the demo needs no network. It
# checks request signatures with these keys, which blksnap finds where the
# AWS SDK looks for them (here the environment).
S3_DIR=/tmp/demo-s3
S3_RUN=/tmp/demo-s3-server
S3_OUT=/tmp/demo-restored-s3.img
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret-key AWS_EC2_METADATA_DISABLED=true

# Steps run in subshells: find the loop device again each time.
bk_dev() { losetup -j "$BK_IMG" -n -O NAME | head -n1; }
out_dev() { losetup -j "$BK_OUT" -n -O NAME | head -n1; }
s3_out_dev() { losetup -j "$S3_OUT" -n -O NAME | head -n1; }
s3_repo() { echo "s3:http://127.0.0.1:$(cat "$S3_RUN.port")/demo/ext4"; }

# Its JVM takes a while to start under CPU emulation: it starts here, in the
# background, and is waited for when the S3 part begins. Its output goes to
# a file, so that the step (whose output is captured) does not wait for it.
s3_start() {
	rm -rf "$S3_DIR" "$S3_RUN".* && mkdir -p "$S3_DIR" &&
		{ "$ROOT/scripts/s3server" --dir "$S3_DIR" --port-file "$S3_RUN.port" >"$S3_RUN.log" 2>&1 </dev/null &
			echo $! >"$S3_RUN.pid"; } && echo "S3Proxy starting (pid $(cat "$S3_RUN.pid")), its objects in $S3_DIR"
}
s3_wait() {
	local pid i
	pid=$(cat "$S3_RUN.pid")
	for ((i = 0; i < 3000; i++)); do
		if [[ -s $S3_RUN.port ]]; then
			cat "$S3_RUN.log"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$S3_RUN.log"; return 1; }
		sleep 0.1
	done
	echo "no answer within 300 s"
	return 1
}

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
# A read-only mount leaves the device as it is: after the backup, the
# device and the restore can be compared bit for bit. The difference
# storage goes to /tmp, the ext4 taking no new files.
s3_backup() {
	mount -o remount,ro "$BK_MNT" &&
		blksnap backup create --device "$(bk_dev)" --repo "$(s3_repo)" --storage /tmp --limit 32M \
			--kdf-memory 16M --kdf-iterations 2 --tag s3
}
s3_restore() {
	local dev
	truncate -s 128M "$S3_OUT" && dev=$(losetup -f --show "$S3_OUT") &&
		blksnap backup restore latest --repo "$(s3_repo)" --to "$dev" --verify
}
s3_bit_exact() {
	local a b
	a=$(sha256sum <"$(bk_dev)" | cut -d' ' -f1) && b=$(sha256sum <"$(s3_out_dev)" | cut -d' ' -f1) &&
		echo "sha256 of the ext4's device $(bk_dev): $a" && echo "sha256 of the restore   $(s3_out_dev): $b" &&
		[[ $a == "$b" ]]
}
# notes.txt's text is in the ext4 as plain bytes; in the bucket it must not be.
s3_no_plaintext() { ! grep -rqF "second version" "$S3_DIR"; }
# Unbinding the loop device detaches its blksnap filter too.
cleanup_backup_fs() {
	kill "$(cat "$S3_RUN.pid")" && umount "$BK_MNT" && losetup -d "$(bk_dev)" && losetup -d "$(out_dev)" &&
		losetup -d "$(s3_out_dev)" &&
		rm -rf "$BK_IMG" "$BK_OUT" "$BK_REPO" "$S3_OUT" "$S3_DIR" "$S3_RUN".* "$BLKSNAP_PASSWORD_FILE"
}

demo_section "Backups: full, incremental, restore" \
	"blksnap backup create snapshots a live device, stores its image as deduplicated, compressed, encrypted chunks in a repository directory and destroys the snapshot. The next backup reads only the blocks CBT says changed."
demo_step "a 128 MiB ext4 on a loop device, mounted, with files" -- make_backup_fs
demo_step "start an S3 server for later (S3Proxy in this guest, 127.0.0.1, in the background)" -- s3_start
demo_step "full backup (the filter is attached on the way, so tracking starts)" -- backup_create --tag first
demo_step "change one file and a few bytes of another" -- change_one_file
demo_step "incremental backup: reads only the blocks CBT says changed" -- backup_create --tag second
demo_step "the repository's backups" -- blksnap backup list --repo "$BK_REPO"
demo_step "restore the latest backup to a new disk, read it back and compare" -- restore_to_disk
demo_step "the restored filesystem holds every file as it was at the incremental" -- restored_files_match
demo_step "mount the first backup read-only, straight from the repository" -- mount_first_backup
demo_step "copy one file out of it: notes.txt as it was at the first backup" -- copy_one_file_out
demo_check "backup umount leaves no nbd device attached" -- umount_first_backup

demo_section "To S3, encrypted, and back bit for bit" \
	"The same ext4 goes to an S3 bucket: blksnap speaks the S3 API (AWS SDK), here to S3Proxy on 127.0.0.1, as it would to AWS, MinIO or Ceph. The repository is encrypted (AES-256-GCM, the key wrapped by the password). The ext4 is remounted read-only first, so that its device can be compared with the restore bit for bit."
demo_step "the S3 server answers" -- s3_wait
demo_step "back the ext4 up to S3 (a new repository there: a full backup)" -- s3_backup
demo_step "restore it from S3 to another new disk" -- s3_restore
demo_step "the restore is bit-exact: same SHA-256 as the ext4's device" -- s3_bit_exact
demo_check "the bucket's files hold none of the ext4's text (encrypted)" -- s3_no_plaintext
demo_check "stop the S3 server; unmount, remove the loop devices and the repositories" -- cleanup_backup_fs
