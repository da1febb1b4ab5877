import Synchronization
import Foundation

/// What the spool keeps beside each pending file so that a daemon killed before the upload finished can finish it at
/// the next mount of the same bucket with the same cache folder: where the bytes go and which of them are new.
struct SpoolJournal: Codable, Sendable, Hashable {
    var bucket: String
    var key: String
    /// The ETag of the object whose unchanged bytes the file keeps, or nil when the spool holds the whole content.
    var baseETag: String?
    var baseSize: UInt64
    var size: UInt64
    var dirty: ByteRangeSet
    var metadata: [String: String]
    var contentType: String?
    /// A multipart upload started for this file, to abort on recovery.
    var uploadID: String?

    /// Writes the journal atomically (temporary file, fsync, rename), mode 0600.
    func save(to path: String) throws {
        let data = try JSONEncoder().encode(self)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw TransferError.localIO(path: temporary, errno: errno) }
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temporary, path) == 0 else { throw TransferError.localIO(path: path, errno: errno) }
    }

    static func load(from path: String) -> SpoolJournal? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(SpoolJournal.self, from: data)
    }
}
