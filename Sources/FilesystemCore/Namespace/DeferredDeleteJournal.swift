import Foundation

/// What the spool folder keeps for a delete that waits for the last close of an unlinked file
/// (`<mount>-<inode>.unlink`), so that a daemon killed meanwhile finishes it at the next mount of the same bucket
/// with the same cache folder, and only if a HEAD still shows the same ETag.
struct DeferredDeleteJournal: JournalFile, Sendable, Hashable {
    static let suffix = ".unlink"

    var bucket: String
    var key: String
    var etag: String
}
