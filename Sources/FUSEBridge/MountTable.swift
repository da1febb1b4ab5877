import Foundation

/// The mounts this process sees, from /proc/self/mountinfo (read as a file: nothing here stat(2)s a mountpoint,
/// which would hang on a FUSE mount whose daemon is not answering yet).
public enum MountTable {
    public struct Entry: Sendable, Hashable {
        /// `MAJOR:MINOR` (the key of /sys/class/bdi).
        public var device: String
        /// The mount point, unescaped.
        public var mountpoint: String
        public var fsType: String
    }

    /// Every mount, oldest first; empty if mountinfo cannot be read.
    public static func entries() -> [Entry] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 6, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { return nil }
            return Entry(device: String(fields[2]), mountpoint: unescape(fields[4]), fsType: String(fields[dash + 1]))
        }
    }

    /// mountinfo(5) escapes space, tab, newline and backslash as `\ooo` (octal).
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let utf8 = field.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "\\"), let end = utf8.index(i, offsetBy: 4, limitedBy: utf8.endIndex),
                let value = UInt8(String(field[utf8.index(after: i)..<end]), radix: 8)
            {
                bytes.append(value)
                i = end
            } else {
                bytes.append(utf8[i])
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
