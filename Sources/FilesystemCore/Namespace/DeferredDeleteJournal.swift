import Foundation

/// What the spool folder keeps for a delete that waits for the last close of an unlinked file
/// (`<mount>-<inode>.unlink`), so that a daemon killed meanwhile finishes it at the next mount of the same bucket
/// with the same cache folder, and only if a HEAD still shows the same ETag.
struct DeferredDeleteJournal: Codable, Sendable, Hashable {
    static let suffix = ".unlink"

    var bucket: String
    var key: String
    var etag: String

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

    static func load(from path: String) -> DeferredDeleteJournal? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(DeferredDeleteJournal.self, from: data)
    }
}
