// ObjectStorage: what an object store is, in storage terms only.
// Owns: `ObjectStore`, keys, ranges, object descriptions, `ObjectStoreError`, and an in-memory store for tests.
// Must never know: HTTP, XML, inodes, paths, errno or FUSE.

/// An S3 object key: a non-empty UTF-8 string of at most 1,024 bytes (S3's limit).
public struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// S3 keys are at most 1,024 bytes of UTF-8.
    public static let maximumByteCount = 1024

    /// The key exactly as S3 stores it.
    public let rawValue: String

    /// Validates `rawValue`; returns nil for an empty key or one longer than 1,024 UTF-8 bytes.
    public init?(_ rawValue: String) {
        let count = rawValue.utf8.count
        guard count > 0, count <= Self.maximumByteCount else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        // S3 lists keys in UTF-8 byte order, which is not Swift's String order.
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}

/// A half-open byte range `[lowerBound, upperBound)` of an object.
public struct ByteRange: Hashable, Sendable, CustomStringConvertible {
    public let lowerBound: UInt64
    public let upperBound: UInt64

    /// A range of `count` bytes from `offset`. `count` may be zero.
    public init(offset: UInt64, count: UInt64) {
        self.lowerBound = offset
        self.upperBound = offset + count
    }

    public init(_ range: Range<UInt64>) {
        self.lowerBound = range.lowerBound
        self.upperBound = range.upperBound
    }

    public var count: UInt64 { upperBound - lowerBound }
    public var isEmpty: Bool { upperBound == lowerBound }

    /// The value of an HTTP `Range` header, `bytes=first-last` (inclusive).
    public var httpRangeHeader: String { "bytes=\(lowerBound)-\(upperBound - 1)" }

    public var description: String { "[\(lowerBound), \(upperBound))" }
}
