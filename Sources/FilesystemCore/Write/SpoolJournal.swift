import Synchronization
import Foundation

/// What the spool keeps beside each pending file so that a daemon killed before the upload finished can finish it at
/// the next mount of the same bucket with the same cache folder: where the bytes go and which of them are new.
struct SpoolJournal: JournalFile, Sendable, Hashable {
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
}
