import Foundation
/// POSIX attributes carried in s3fs-compatible user metadata (`x-amz-meta-mode`, `-uid`, `-gid`, `-mtime`,
/// `-atime`, `-ctime`), shared with s3fs and rclone so that buckets written by any of them read the same.
///
/// Values are decimal: `mode` is the whole `st_mode` (type bits included, as s3fs writes it); times are
/// `seconds` or `seconds.fraction`, where a fraction shorter than nine digits is padded on the right.
public struct POSIXMetadata: Sendable, Hashable {
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var mtime: Timestamp?
    public var atime: Timestamp?
    public var ctime: Timestamp?
    /// The metadata names these attributes use; every other name is kept as it is on rewrites.
    public static let names: Set<String> = ["mode", "uid", "gid", "mtime", "atime", "ctime"]

    /// Metadata names present but not understood (non-numeric mode, a mtime of "yesterday"), for a log line.
    public var malformed: [String] = []

    public init(
        mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, mtime: Timestamp? = nil,
        atime: Timestamp? = nil, ctime: Timestamp? = nil
    ) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.atime = atime
        self.ctime = ctime
    }

    /// Reads the attributes from user metadata (names without `x-amz-meta-`, lower-cased).
    public init(metadata: [String: String]) {
        func number(_ name: String, into malformed: inout [String]) -> UInt32? {
            guard let text = metadata[name] else { return nil }
            guard let value = UInt32(text.trimmingSpaces) else {
                malformed.append(name)
                return nil
            }
            return value
        }
        func time(_ name: String, into malformed: inout [String]) -> Timestamp? {
            guard let text = metadata[name] else { return nil }
            guard let value = Self.parseTime(text.trimmingSpaces) else {
                malformed.append(name)
                return nil
            }
            return value
        }
        var bad: [String] = []
        mode = number("mode", into: &bad)
        uid = number("uid", into: &bad)
        gid = number("gid", into: &bad)
        mtime = time("mtime", into: &bad)
        atime = time("atime", into: &bad)
        ctime = time("ctime", into: &bad)
        malformed = bad
    }

    /// The metadata entries for these attributes, as bucketfs writes them (times with nine fraction digits).
    public var metadata: [String: String] {
        var out: [String: String] = [:]
        if let mode { out["mode"] = String(mode) }
        if let uid { out["uid"] = String(uid) }
        if let gid { out["gid"] = String(gid) }
        if let mtime { out["mtime"] = Self.format(mtime) }
        if let atime { out["atime"] = Self.format(atime) }
        if let ctime { out["ctime"] = Self.format(ctime) }
        return out
    }

    /// The node kind the mode's type bits name, if they name one bucketfs represents as an object.
    public var kind: NodeKind? {
        guard let mode else { return nil }
        switch mode & 0o170000 {
        case 0o120000: return .symlink
        case 0o040000: return .directory
        case 0o100000: return .file
        default: return nil
        }
    }

    /// `seconds.nanoseconds`, nine digits, as s3fs and bucketfs write `x-amz-meta-mtime`.
    public static func format(_ t: Timestamp) -> String {
        let fraction = String(t.nanoseconds)
        return "\(t.seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }

    /// Parses `123`, `-5`, `123.5` (= 123 s 500,000,000 ns) or `123.000000001`; nil for anything else.
    public static func parseTime(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let seconds = Int64(parts[0]) else { return nil }
        guard parts.count == 2 else { return Timestamp(seconds: seconds) }
        let digits = parts[1]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        // Keep nine digits (nanoseconds); pad a shorter fraction on the right.
        let nine = String(digits.prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
        return Timestamp(seconds: seconds, nanoseconds: Int32(nine)!)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
