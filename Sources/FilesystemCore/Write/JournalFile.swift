import Foundation

/// A small JSON record bucketfs keeps in the spool folder so that a daemon killed meanwhile can finish the work at the
/// next mount (spool journals, deferred deletes).
protocol JournalFile: Codable {}

extension JournalFile {
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

    /// The journal at `path`, or nil if there is none or it cannot be read.
    static func load(from path: String) -> Self? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Self.self, from: data)
    }
}
