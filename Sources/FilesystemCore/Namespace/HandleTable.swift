import Synchronization

/// Open file and directory handles.
final class HandleTable: Sendable {
    enum Handle: Sendable {
        case directory(DirectoryHandle)
        case file(OpenFile)
    }

    struct State {
        var handles: [FileHandleID: Handle] = [:]
        var next: UInt64 = 1
    }

    // Guards the handle map.
    private let state = Mutex(State())

    func insert(_ handle: Handle) -> FileHandleID {
        state.withLock { s in
            let id = FileHandleID(s.next)
            s.next += 1
            s.handles[id] = handle
            return id
        }
    }

    func directory(_ id: FileHandleID) throws(NamespaceError) -> DirectoryHandle {
        let handle = state.withLock { $0.handles[id] }
        guard case .directory(let d) = handle else { throw .unknownHandle(id) }
        return d
    }

    func file(_ id: FileHandleID) throws(NamespaceError) -> OpenFile {
        let handle = state.withLock { $0.handles[id] }
        guard case .file(let f) = handle else { throw .unknownHandle(id) }
        return f
    }

    func remove(_ id: FileHandleID) -> Handle? { state.withLock { $0.handles.removeValue(forKey: id) } }

    /// Whether any file handle is open on `ino`.
    func hasOpenFile(on ino: InodeNumber) -> Bool {
        state.withLock { s in s.handles.values.contains { if case .file(let f) = $0 { f.inode == ino } else { false } } }
    }

    /// Open file handles (for status and sync).
    var openFiles: [OpenFile] {
        state.withLock { s in s.handles.values.compactMap { if case .file(let f) = $0 { f } else { nil } } }
    }
}

/// An open directory: a snapshot of its entries taken at the first readdir, so offsets stay stable.
final class DirectoryHandle: Sendable {
    let inode: InodeNumber
    let path: String
    // Guards the snapshot.
    let snapshot = Mutex<[ListedEntry]?>(nil)

    init(inode: InodeNumber, path: String) {
        self.inode = inode
        self.path = path
    }
}
