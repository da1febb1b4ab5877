import ObjectStorage
import Synchronization

/// An open file: the object version it reads (fixed at open, so a read never mixes versions) and its readahead.
final class OpenFile: Sendable {
    let inode: InodeNumber
    let path: String
    let version: ObjectVersion
    // Guards the readahead state of this handle.
    let readAhead: Mutex<ReadAhead>

    init(inode: InodeNumber, path: String, version: ObjectVersion, readAhead: ReadAhead) {
        self.inode = inode
        self.path = path
        self.version = version
        self.readAhead = Mutex(readAhead)
    }
}
