// bucketfs: the command.
// Owns: the command line, logging bootstrap, daemonizing, signals, and wiring S3, the core and the bridge together.
// Must never know: how requests are signed, how blocks are cached, or how libfuse replies.

import ArgumentParser
import Foundation

/// How to reach the bucket.
struct S3Options: ParsableArguments {
    @Option(help: ArgumentHelp("S3 endpoint URL (default: AWS for the region).", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("Region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1).", valueName: "region"))
    var region: String?

    @Option(help: ArgumentHelp("Profile in ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE).", valueName: "name"))
    var profile: String?

    @Flag(help: "Use path-style addressing (automatic for IP-address and localhost endpoints).")
    var pathStyle = false

    @Flag(help: "Send unsigned requests (public buckets); no credentials are looked up.")
    var noSignRequest = false

    @Option(help: ArgumentHelp("CA certificates for HTTPS (default: AWS_CA_BUNDLE, else the system's).", valueName: "file"))
    var caBundle: String?

    @Flag(help: "Do not verify the server's TLS certificate (insecure; for test servers only).")
    var noVerifyTls = false

    @Option(help: ArgumentHelp("Seconds one S3 request may take before it is retried.", valueName: "seconds"))
    var requestTimeout: Int = 30
}

/// How the bucket is presented.
struct PresentationOptions: ParsableArguments {
    @Flag(help: "Mount read-only.")
    var readOnly = false

    @Option(help: ArgumentHelp("Owner of objects without uid metadata (default: the user who mounts).", valueName: "uid"))
    var uid: UInt32?

    @Option(help: ArgumentHelp("Group of objects without gid metadata (default: the user's group).", valueName: "gid"))
    var gid: UInt32?

    @Option(help: ArgumentHelp("Permissions of files without mode metadata, octal.", valueName: "mode"))
    var fileMode: String = "0644"

    @Option(help: ArgumentHelp("Permissions of directories, octal.", valueName: "mode"))
    var dirMode: String = "0755"

    @Option(help: ArgumentHelp("Seconds attributes, entries and listings are trusted before asking S3 again.", valueName: "seconds"))
    var metadataTtl: Double = 10

    @Flag(help: "Neither read nor write the per-directory metadata index objects (.bucketfs/index/ at the mount root).")
    var noMetadataIndex = false
}

/// Local resources.
struct CacheOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder for cache and spool files (default: $XDG_CACHE_HOME/bucketfs or ~/.cache/bucketfs).", valueName: "dir"))
    var cacheDir: String?

    @Option(help: ArgumentHelp("Memory for cached blocks and readahead, e.g. 256M or 1G.", valueName: "size"))
    var cacheMemory: String = "256M"

    @Option(
        help: ArgumentHelp(
            "Most disk the write spool takes, e.g. 512M or 10G; when it is full, writes wait for uploads.",
            valueName: "size"))
    var cacheSize: String = "10G"

    @Flag(help: "Make close(2) wait until the file is in the bucket (default: once it is safe in the local spool).")
    var syncOnClose = false
}

/// Process and kernel settings.
struct ProcessOptions: ParsableArguments {
    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground and log to stderr.")
    var foreground = false

    @Option(
        name: .customShort("o"),
        help: ArgumentHelp("Mount options, comma-separated (allow_other, ro, uid=N, endpoint=URL, …; see bucketfs(1)).", valueName: "opt[,opt...]"))
    var mountOptions: [String] = []

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Log to this file instead of stderr (foreground) or syslog (background).", valueName: "file"))
    var logFile: String?

    @Option(help: ArgumentHelp("FUSE worker threads.", valueName: "count"))
    var fuseThreads: Int = 16
}

/// Parses `512K`, `256M`, `2G`, `1T` or plain bytes.
func parseSize(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
    var digits = text.uppercased()
    if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B"), digits.count > 1 { digits.removeLast() }
    var shift = 0
    if let last = digits.last, let s = units[last] {
        shift = s
        digits.removeLast()
    }
    guard let value = Int(digits), value >= 0, value <= (Int.max >> shift) else { return nil }
    return value << shift
}

/// Parses an octal mode such as `0644` or `755` (permission bits only).
func parseMode(_ text: String) -> UInt32? {
    guard let value = UInt32(text, radix: 8), value <= 0o7777 else { return nil }
    return value
}
