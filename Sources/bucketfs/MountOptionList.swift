import Foundation
import ArgumentParser

/// The `-o` options, as mount(8), fstab and mount.fuse3 pass them: bucketfs's own settings (`endpoint=`, `uid=`,
/// …), options handed to the kernel (`allow_other`, `default_permissions`, …), and fstab-only words, accepted and
/// ignored (`_netdev`, `x-systemd.*`, `noauto`, `nofail`, …).
struct MountOptionList {
    /// Options for libfuse and the kernel.
    var kernel: [String] = []
    /// bucketfs settings given as `name=value` (or bare flags, value nil).
    var settings: [(name: String, value: String?)] = []

    /// Kernel/libfuse options bucketfs passes through.
    static let passedThrough: Set<String> = [
        "allow_other", "allow_root", "default_permissions", "auto_unmount", "ro", "rw", "nodev", "nosuid", "noexec",
        "dev", "suid", "exec", "noatime", "atime", "relatime", "sync", "async", "dirsync",
    ]
    /// fstab and mount(8) words that are not mount options for the filesystem itself.
    static let ignored: Set<String> = ["defaults", "auto", "noauto", "user", "nouser", "users", "nofail", "_netdev"]
    /// bucketfs settings accepted as `-o name=value`.
    static let settingNames: Set<String> = [
        "endpoint", "region", "profile", "path_style", "no_sign_request", "ca_bundle", "uid", "gid", "file_mode",
        "dir_mode", "metadata_ttl", "cache_dir", "cache_memory", "cache_size", "log_level", "log_file", "read_only", "foreground",
        "fuse_threads", "request_timeout", "no_verify_tls", "no_metadata_index", "sync_on_close",
    ]

    init(_ groups: [String]) throws {
        for group in groups {
            for option in group.split(separator: ",", omittingEmptySubsequences: true).map(String.init) {
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                let name = parts[0].replacingOccurrences(of: "-", with: "_")
                if Self.ignored.contains(name) || name.hasPrefix("x_systemd.") || option.hasPrefix("x-systemd.")
                    || option.hasPrefix("comment=")
                {
                    continue
                }
                if Self.passedThrough.contains(name) {
                    kernel.append(option)
                } else if Self.settingNames.contains(name) {
                    settings.append((name, parts.count > 1 ? parts[1] : nil))
                } else if name == "fsname" || name == "subtype" {
                    continue  // bucketfs names itself
                } else {
                    throw ValidationError("unknown mount option '\(option)'")
                }
            }
        }
    }

    /// Whether `ro` was given (and not overridden by a later `rw`).
    var readOnly: Bool { kernel.last { $0 == "ro" || $0 == "rw" } == "ro" }
}
