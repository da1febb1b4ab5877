/// What kind of node a path names.
public enum NodeKind: Sendable, Hashable {
    case file, directory, symlink

    /// The file-type bits of `st_mode`.
    public var modeBits: UInt32 {
        switch self {
        case .file: 0o100000
        case .directory: 0o040000
        case .symlink: 0o120000
        }
    }
}

/// The attributes stat(2) shows for a node.
public struct NodeAttributes: Sendable, Hashable {
    public var inode: InodeNumber
    public var kind: NodeKind
    public var size: UInt64
    /// Permission bits only (`0o7777`); the type comes from `kind`.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: Timestamp
    public var atime: Timestamp
    public var ctime: Timestamp

    /// The full `st_mode`: type bits and permissions.
    public var mode: UInt32 { kind.modeBits | (permissions & 0o7777) }

    /// Link count: 1 for files and symlinks; directories report 1 too, as many network filesystems do, which tells
    /// `find` not to rely on link counts to skip subdirectories.
    public var linkCount: UInt32 { 1 }

    /// The block size stat(2) reports and statfs(2) uses.
    public static let blockSize: UInt32 = 4096

    public init(
        inode: InodeNumber, kind: NodeKind, size: UInt64, permissions: UInt32, uid: UInt32, gid: UInt32,
        mtime: Timestamp, atime: Timestamp, ctime: Timestamp
    ) {
        self.inode = inode
        self.kind = kind
        self.size = size
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.atime = atime
        self.ctime = ctime
    }
}

/// The figures statfs(2) reports.
public struct FilesystemStatistics: Sendable, Hashable {
    public var blockSize: UInt32
    public var totalBlocks: UInt64
    public var freeBlocks: UInt64
    public var totalInodes: UInt64
    public var freeInodes: UInt64
    public var maximumNameLength: UInt32
}
