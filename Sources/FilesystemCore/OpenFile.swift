import ObjectStorage
import Synchronization

/// An open file: the object version it reads (fixed at open, so a read never mixes versions) and its readahead; or,
/// for a file with local content, the pending file all its reads and writes go through.
final class OpenFile: Sendable {
    let inode: InodeNumber
    let path: String
    let version: ObjectVersion
    let writable: WritableFile?
    let isWriter: Bool
    // Guards the readahead state of this handle.
    let readAhead: Mutex<ReadAhead>

    init(
        inode: InodeNumber, path: String, version: ObjectVersion, readAhead: ReadAhead, writable: WritableFile? = nil,
        isWriter: Bool = false
    ) {
        self.inode = inode
        self.path = path
        self.version = version
        self.writable = writable
        self.isWriter = isWriter
        self.readAhead = Mutex(readAhead)
    }
}
