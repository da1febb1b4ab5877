# shellcheck shell=bash
# Shared output helpers for scripts/*. Source it; it defines functions only.

# section TITLE: prints a visible header so a CI log can be skimmed.
section() {
    printf '\n==> %s\n' "$*"
}

# note MESSAGE: one informational line.
note() {
    printf '    %s\n' "$*"
}

# die MESSAGE: one clear line on stderr, then exit 1.
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# repo_root: the absolute path of the repository that holds scripts/.
repo_root() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    printf '%s\n' "$here"
}

# ensure_swift: puts /opt/swift/usr/bin on PATH when swift is not already there.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
        PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH (nor at /opt/swift/usr/bin)"
}

# fuse_mounts_under ROOT: prints the mount points in /proc/mounts that lie under ROOT, deepest first.
fuse_mounts_under() {
    local root=${1%/}
    [[ -n $root && $root != / ]] || return 0
    # /proc/mounts escapes a space in a path as \040; our temp roots contain none.
    awk -v root="$root/" 'index($2 "/", root) == 1 && $2 != root { print $2 }' /proc/mounts | sort -r
}

# unmount_all_under ROOT: lazily unmounts every mount under ROOT (fusermount3 -uz, else umount -l).
unmount_all_under() {
    local mnt
    while IFS= read -r mnt; do
        [[ -n $mnt ]] || continue
        note "unmounting leftover $mnt"
        fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || note "could not unmount $mnt"
    done < <(fuse_mounts_under "$1")
}

# is_mounted PATH: true when PATH (absolute) is a mount point in /proc/mounts.
is_mounted() {
    awk -v p="$1" '$2 == p { found = 1 } END { exit !found }' /proc/mounts
}
