// FilesystemCore: the filesystem as the kernel sees it, built on any `ObjectStore`.
// Owns: inode table, key↔path mapping, attribute and listing caches, the block cache, write-back buffers,
// upload scheduling, and the choice of errno.
// Must never know: HTTP, S3 wire formats, libfuse types or threads.

/// A FUSE inode number. 1 is the mount's root; numbers are never reused within a mount.
public struct InodeNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let root = InodeNumber(1)
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "\(rawValue)" }
    public static func < (a: InodeNumber, b: InodeNumber) -> Bool { a.rawValue < b.rawValue }
}

/// An open file or directory handle, as returned by open/opendir/create.
public struct FileHandleID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "\(rawValue)" }
}

/// A seconds-and-nanoseconds point in time, as stat(2) reports it.
public struct Timestamp: Hashable, Sendable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(timeIntervalSince1970 t: Double) {
        let whole = t.rounded(.down)
        self.seconds = Int64(whole)
        self.nanoseconds = Int32(min(999_999_999, max(0, ((t - whole) * 1e9).rounded())))
    }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
