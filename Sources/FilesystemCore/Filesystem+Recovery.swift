import Logging
import Foundation
import ObjectStorage
import Synchronization

extension Filesystem {
    /// Uploads what a previous daemon spooled for this bucket but did not upload (it was killed, or the machine
    /// stopped): every journal in the spool folder whose bucket matches becomes a pending file again. A file whose
    /// directory a finished interrupted rename moved (`renamed`, key prefixes) goes up under its new key.
    public func recoverSpool(renamed: [(from: String, to: String)] = []) {
        guard let directory = configuration.spoolDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return }
        for name in names where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            let journalPath = "\(directory)/\(name)"
            guard let journal = SpoolJournal.load(from: journalPath), journal.bucket == configuration.bucket,
                let key = ObjectKey(Self.renamedKey(journal.key, renamed)),
                let spool = try? SpoolFile(path: "\(directory)/\(id).data", create: false)
            else { continue }
            let prefix = configuration.mapping.prefix
            // Files outside the mounted sub-tree are uploaded too, under a path no lookup reaches.
            let path = key.rawValue.hasPrefix(prefix) ? String(key.rawValue.dropFirst(prefix.count)) : "\u{0}" + key.rawValue
            let base = journal.baseETag.map { ObjectVersion(key: key, etag: $0, size: journal.baseSize) }
            let file = WritableFile(
                id: id, spool: spool, journalPath: journalPath, bucket: journal.bucket, path: path, key: key,
                base: base, size: journal.size, posix: POSIXMetadata(metadata: journal.metadata),
                contentType: journal.contentType)
            file.state.withLock { s in
                s.dirty = journal.dirty
                // Sparse growth is in `dirty` too, so this may overcharge a file grown by truncate.
                s.spooled = journal.dirty
                s.baseLimit = journal.baseSize
                s.otherMetadata = journal.metadata.filter { !POSIXMetadata.names.contains($0.key) }
            }
            if let uploadID = journal.uploadID {
                let store = self.store
                Task { try? await store.abortMultipartUpload(key, uploadID: uploadID) }
            }
            logger.info("recovering spooled upload", metadata: ["s3.key": "\(key)", "bytes": "\(journal.size)"])
            pending.insert(file, at: path)
            spoolBudget.charge(journal.dirty.count)
            scheduleUpload(file, after: .zero)
        }
    }

    /// `key` with the first renamed prefix it lies under replaced by its new name.
    static func renamedKey(_ key: String, _ renamed: [(from: String, to: String)]) -> String {
        guard let move = renamed.first(where: { key.hasPrefix($0.from) }) else { return key }
        return move.to + key.dropFirst(move.from.count)
    }
}
