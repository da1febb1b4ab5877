import Synchronization
import ObjectStorage

/// One entry of a readdir reply.
public struct DirectoryEntry: Sendable {
    public var name: String
    /// The offset to pass to continue after this entry.
    public var nextOffset: UInt64
    public var kind: NodeKind
    public var path: String
    /// For readdirplus: what the kernel may cache for this entry, or nil when its attributes are not known yet
    /// (the kernel then looks it up, which awaits the metadata fetch started by the listing).
    public var entry: NamespaceCache.Entry?
    /// `.` and `..` carry no lookup count.
    public var isDot: Bool { name == "." || name == ".." }
}

extension Filesystem {
    /// FUSE opendir.
    public func openDirectory(_ ino: InodeNumber) throws -> FileHandleID {
        let (path, kind) = try inodes.node(ino)
        guard kind == .directory else { throw NamespaceError.notADirectory(path: path) }
        inodes.handleOpened(ino)
        return handles.insert(.directory(DirectoryHandle(inode: ino, path: path)))
    }

    /// FUSE readdir / readdirplus: entries from `offset` on (0 is the start: `.`, `..`, then the listing).
    /// The listing is taken once per handle (at offset 0), so offsets stay stable while the directory changes.
    public func readDirectory(_ handle: FileHandleID, from offset: UInt64, limit: Int) async throws
        -> [DirectoryEntry]
    {
        let directory = try handles.directory(handle)
        var snapshot = directory.snapshot.withLock { $0 }
        if snapshot == nil || offset == 0 {
            if offset == 0 { cache.invalidateListing(directory.path) }  // rewinddir(3) sees changes
            var listing = try await listDirectory(directory.path)
            // Read-your-writes: files written here and not yet in the bucket are listed too.
            for name in pending.children(of: directory.path) where listing.entry(named: name) == nil {
                if let file = pending.file(at: configuration.mapping.path(of: name, in: directory.path)) {
                    listing.upsert(ListedEntry(name: name, kind: .object(file.record().summary)))
                }
            }
            snapshot = listing.entries
            directory.snapshot.withLock { $0 = listing.entries }
        }
        let entries = snapshot!
        let mapping = configuration.mapping
        var out: [DirectoryEntry] = []
        var index = Int(offset)
        while out.count < limit, index < entries.count + 2 {
            defer { index += 1 }
            if index < 2 {
                out.append(
                    DirectoryEntry(
                        name: index == 0 ? "." : "..", nextOffset: UInt64(index + 1), kind: .directory,
                        path: directory.path, entry: nil))
                continue
            }
            let listed = entries[index - 2]
            let path = mapping.path(of: listed.name, in: directory.path)
            let cached = pending.file(at: path).map { NamespaceCache.Entry.file($0.record()) } ?? cache.entry(path)
            let kind: NodeKind
            switch (listed.kind, cached) {
            case (.directory, _): kind = .directory
            case (.object, .file(let record)?): kind = record.kind
            case (.object, _): kind = .file
            }
            out.append(
                DirectoryEntry(
                    name: listed.name, nextOffset: UInt64(index + 1), kind: kind, path: path,
                    entry: listed.kind == .directory ? .directory : cached))
        }
        return out
    }

    /// Counts the kernel lookup a readdirplus entry carries and returns its attributes; for entries without known
    /// attributes (or `.` and `..`), only a number for the dirent.
    public func admit(_ entry: DirectoryEntry) -> (attributes: NodeAttributes?, inode: InodeNumber) {
        guard !entry.isDot, let known = entry.entry, known != .absent else {
            return (nil, entry.isDot ? .root : inodes.numberForListing(entry.path))
        }
        let ino = inodes.lookedUp(entry.path, kind: entry.kind)
        return ((try? attributes(ino, known, path: entry.path)), ino)
    }

    /// A number for a plain readdir entry (no lookup counted).
    public func listingNumber(_ entry: DirectoryEntry) -> InodeNumber {
        entry.isDot ? .root : inodes.numberForListing(entry.path)
    }

    /// FUSE releasedir.
    public func releaseDirectory(_ handle: FileHandleID) {
        if case .directory(let d) = handles.remove(handle) { inodes.handleClosed(d.inode) }
    }
}
