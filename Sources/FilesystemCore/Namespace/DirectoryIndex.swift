import Foundation
import ObjectStorage

/// What HEAD said about each file of one directory, as of the ETag, size and Last-Modified a listing showed: one
/// object per directory (`.bucketfs/index/d<name>/…/i` at the mount root), read instead of a HEAD per file.
///
/// An entry is used only while the listing still shows the same ETag, size and Last-Modified second; anything else
/// (an object another tool wrote, replaced or re-tagged with CopyObject) costs its HEAD as if there were no index.
/// So a stale or foreign index can cost requests, never show wrong attributes.
struct DirectoryIndex: Codable, Sendable, Equatable {
    struct Entry: Codable, Sendable, Equatable {
        /// ETag, size, Last-Modified (whole seconds) as listed.
        var e: String
        var s: UInt64
        var t: Int64
        /// User metadata (x-amz-meta-* without the prefix), omitted when empty.
        var m: [String: String]?
        /// Content-Type, when not the default.
        var c: String?
    }

    var version = 1
    /// The directory's path below the mount root, checked on load.
    var path: String
    var entries: [String: Entry]

    /// Largest index body bucketfs reads; a larger one is ignored.
    static let maximumBytes = 64 << 20

    /// Directories with fewer files than this have no index: their HEADs are as cheap as the index's GET, and
    /// keeping it would cost a LIST and a PUT after changes.
    static let minimumFiles = 4

    /// Where the indexes of the directory at `path` and of everything below it live: the path mirrored under
    /// `.bucketfs/index/` with each name prefixed by `d`, so that no directory can be called like an index (`i`).
    static func subtreePrefix(for path: String, mapping: KeyMapping) -> String {
        mapping.prefix + KeyMapping.reservedName + "/index/"
            + path.split(separator: "/").map { "d" + $0 + "/" }.joined()
    }

    /// The key of the index of the directory at `path`: `.bucketfs/index/da/db/i` for `a/b`. None when a name is
    /// 255 bytes long (its mirror would be too long for some servers) or the key would exceed 1,024 bytes.
    static func key(for path: String, mapping: KeyMapping) -> ObjectKey? {
        guard !path.split(separator: "/").contains(where: { $0.utf8.count >= KeyMapping.maximumNameLength }) else {
            return nil
        }
        return ObjectKey(subtreePrefix(for: path, mapping: mapping) + "i")
    }

    /// The record the entry stands for, if it describes `summary`'s object version.
    func record(_ name: String, for summary: ObjectSummary) -> FileRecord? {
        guard let entry = entries[name], entry.e == summary.etag, entry.s == summary.size,
            entry.t == Int64(summary.lastModified.timeIntervalSince1970.rounded(.down))
        else { return nil }
        var record = FileRecord(
            info: ObjectInfo(
                key: summary.key, size: summary.size, etag: summary.etag, lastModified: summary.lastModified,
                metadata: entry.m ?? [:], contentType: entry.c, storageClass: summary.storageClass))
        record.lastModified = entry.t
        return record
    }

    init(path: String, entries: [String: Entry]) {
        self.path = path
        self.entries = entries
    }

    init(path: String, records: [(name: String, record: FileRecord)]) {
        self.path = path
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(records.count)
        for (name, record) in records {
            entries[name] = Entry(
                e: record.etag, s: record.size, t: record.lastModified,
                m: record.metadata.isEmpty ? nil : record.metadata, c: record.contentType)
        }
        self.entries = entries
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self)
    }

    /// The index in `data` if it is one, of version 1, for `path`; nil for anything else (never a crash).
    static func decode(_ data: Data, path: String) -> DirectoryIndex? {
        guard data.count <= maximumBytes, let index = try? JSONDecoder().decode(DirectoryIndex.self, from: data),
            index.version == 1, index.path == path
        else { return nil }
        return index
    }
}
