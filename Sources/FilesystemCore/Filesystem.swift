import Foundation
import Logging
import ObjectStorage
import Synchronization

/// How the filesystem presents the bucket.
public struct FilesystemConfiguration: Sendable {
    public var mapping: KeyMapping
    /// Owner and modes of objects that carry no POSIX metadata (`--uid`, `--gid`, `--file-mode`, `--dir-mode`).
    public var uid: UInt32
    public var gid: UInt32
    public var fileMode: UInt32
    public var directoryMode: UInt32
    /// How long attributes, entries and listings are trusted (`--metadata-ttl`); also the kernel's timeouts.
    public var metadataTTL: Duration
    public var readOnly: Bool
    /// In-memory block cache budget (`--cache-memory`) and its block size.
    public var cacheMemoryBytes: Int
    public var blockSize: Int
    /// Largest readahead window per open file.
    public var maximumReadahead: UInt64
    /// HEAD requests in flight at once when a listing's attributes are fetched.
    public var attributeConcurrency: Int
    /// Where spool files and their journals live (`--cache-dir`/spool/…); nil keeps the mount read-only.
    public var spoolDirectory: String?
    /// The bucket's name, recorded in spool journals so that recovery uploads to the right bucket only.
    public var bucket: String
    /// Quiet time after the last close before an upload starts; a chmod or utimens in it rides along.
    public var uploadDelay: Duration
    /// Whether close(2) waits for the upload (`--sync-on-close`).
    public var syncOnClose: Bool
    /// Whether directories of 16 files or more keep an index object of their files' metadata
    /// (`--no-metadata-index` turns it off); read-only mounts read indexes but never write them.
    public var metadataIndex: Bool
    /// Files uploading at once, and parts in flight at once across all files.
    public var uploadConcurrency: Int
    public var partConcurrency: Int
    /// The spool's hard size cap in bytes (`--cache-size`): past it, writes wait for closed files' uploads; nil for
    /// no cap.
    public var spoolCapacity: UInt64?

    public init(
        mapping: KeyMapping = KeyMapping(prefix: ""), uid: UInt32 = 0, gid: UInt32 = 0, fileMode: UInt32 = 0o644,
        directoryMode: UInt32 = 0o755, metadataTTL: Duration = .seconds(10), readOnly: Bool = false,
        cacheMemoryBytes: Int = 256 << 20, blockSize: Int = 128 << 10, maximumReadahead: UInt64 = 64 << 20,
        attributeConcurrency: Int = 32, spoolDirectory: String? = nil, bucket: String = "bucket",
        uploadDelay: Duration = .milliseconds(300), syncOnClose: Bool = false, uploadConcurrency: Int = 16,
        partConcurrency: Int = 8, metadataIndex: Bool = true, spoolCapacity: UInt64? = nil
    ) {
        self.spoolCapacity = spoolCapacity
        self.metadataIndex = metadataIndex
        self.mapping = mapping
        self.uid = uid
        self.gid = gid
        self.fileMode = fileMode
        self.directoryMode = directoryMode
        self.metadataTTL = metadataTTL
        self.readOnly = readOnly
        self.cacheMemoryBytes = cacheMemoryBytes
        self.blockSize = blockSize
        self.maximumReadahead = maximumReadahead
        self.attributeConcurrency = attributeConcurrency
        self.spoolDirectory = spoolDirectory
        self.bucket = bucket
        self.uploadDelay = uploadDelay
        self.syncOnClose = syncOnClose
        self.uploadConcurrency = uploadConcurrency
        self.partConcurrency = partConcurrency
    }
}

/// The filesystem: POSIX operations on inodes and handles, answered from caches or the object store.
///
/// Every method is safe to call from many tasks at once; none blocks a thread.
public final class Filesystem: Sendable {
    public let configuration: FilesystemConfiguration
    public let store: any ObjectStore
    public let inodes = InodeTable()
    public let cache: NamespaceCache
    public let blocks: BlockCache
    let logger: Logger
    let mountTime = Timestamp.now()
    let heads = SingleFlight<String, FileRecord?>()
    let listings = SingleFlight<String, DirectoryListing>()
    let attributeLimit: ConcurrencyLimit
    let handles = HandleTable()
    let hiddenKeys = Mutex<Set<String>>([])
    /// Files this mount wrote whose Last-Modified it has not seen yet (path → ETag), for directory indexes.
    let recentWrites = Mutex<[String: String]>([:])
    let indexWrites = Mutex(IndexWrites())
    /// Directories found too big (more than one LIST page) to list for a lookup: their names are probed one by one.
    let bigDirectories = Mutex<Set<String>>([])
    /// Set once the bucket refused an index write (read-only credentials): no more are tried.
    let indexWritesDenied = Atomic<Bool>(false)
    /// Object versions that open read handles hold and a directory rename moved: where their bytes are now.
    let relocations = Mutex<[ObjectVersion: ObjectVersion]>([:])
    /// Files unlinked while open: hidden from this mount, deleted from the bucket at their last close.
    let unlinked = UnlinkedFiles()
    /// Names this daemon's journals apart from a previous daemon's in a shared spool folder.
    let instanceID = UUID().uuidString.lowercased()
    /// The object version each inode was last opened at, to tell the kernel when its page cache is still good.
    let lastOpenedVersions = Mutex<[InodeNumber: ObjectVersion]>([:])
    let pending = PendingFiles()
    /// Directory metadata set through this mount (markers on some servers drop it).
    let directoryMetadata = Mutex<[String: POSIXMetadata]>([:])
    /// Directory extended attributes set through this mount (kept for the same reason).
    let directoryAttributeValues = Mutex<[String: ExtendedAttributes]>([:])
    let uploader: Uploader
    let uploadLimit: ConcurrencyLimit
    /// Bytes all spools hold, against `configuration.spoolCapacity`.
    let spoolBudget: SpoolBudget

    public init(store: any ObjectStore, configuration: FilesystemConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.cache = NamespaceCache(ttl: configuration.metadataTTL)
        self.blocks = BlockCache(
            blockSize: configuration.blockSize, capacity: configuration.cacheMemoryBytes,
            maximumFetchSize: max(configuration.blockSize, min(8 << 20, configuration.cacheMemoryBytes / 8)))
        self.attributeLimit = ConcurrencyLimit(configuration.attributeConcurrency)
        self.uploadLimit = ConcurrencyLimit(configuration.uploadConcurrency)
        self.spoolBudget = SpoolBudget(capacity: configuration.spoolCapacity)
        self.uploader = Uploader(
            store: store, partLimit: ConcurrencyLimit(configuration.partConcurrency), logger: logger)
    }

    /// The kernel's entry and attribute timeout, in seconds.
    public var kernelTimeout: Double {
        let c = configuration.metadataTTL.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// Logs once per key that a key cannot be shown as a path.
    func hide(_ key: String, because reason: String) {
        let first = hiddenKeys.withLock { $0.insert(key).inserted }
        if first { logger.warning("key hidden", metadata: ["s3.key": "\(key)", "reason": "\(reason)"]) }
    }

    /// statfs(2): S3 has no capacity limit, so free space is reported as a large constant (1 PiB in 4 KiB blocks).
    public func statistics() -> FilesystemStatistics {
        let blocks: UInt64 = (1 << 50) / UInt64(NodeAttributes.blockSize)
        return FilesystemStatistics(
            blockSize: NodeAttributes.blockSize, totalBlocks: blocks, freeBlocks: blocks,
            totalInodes: 1 << 32, freeInodes: 1 << 32, maximumNameLength: UInt32(KeyMapping.maximumNameLength))
    }

    /// FUSE forget: the kernel dropped `count` lookups of `ino`.
    public func forget(_ ino: InodeNumber, count: UInt64) {
        inodes.forget(ino, count: count)
    }

    /// Attributes of a directory: what this mount set on it, else the mount's defaults.
    func directoryAttributes(_ ino: InodeNumber, path: String = "") -> NodeAttributes {
        let posix = path.isEmpty ? nil : directoryMetadata.withLock { $0[path] }
        let mtime = posix?.mtime ?? mountTime
        return NodeAttributes(
            inode: ino, kind: .directory, size: UInt64(NodeAttributes.blockSize),
            permissions: posix?.mode.map { $0 & 0o7777 } ?? configuration.directoryMode,
            uid: posix?.uid ?? configuration.uid, gid: posix?.gid ?? configuration.gid,
            mtime: mtime, atime: posix?.atime ?? mtime, ctime: posix?.ctime ?? mtime)
    }

    /// Attributes of a file or symlink from its record: s3fs metadata where present, defaults elsewhere.
    func fileAttributes(_ ino: InodeNumber, _ record: FileRecord) -> NodeAttributes {
        let posix = record.posix
        let mtime = posix.mtime ?? Timestamp(seconds: record.lastModified)
        let permissions = record.kind == .symlink ? 0o777 : (posix.mode.map { $0 & 0o7777 } ?? configuration.fileMode)
        return NodeAttributes(
            inode: ino, kind: record.kind, size: record.size, permissions: permissions,
            uid: posix.uid ?? configuration.uid, gid: posix.gid ?? configuration.gid, mtime: mtime,
            atime: posix.atime ?? mtime, ctime: posix.ctime ?? mtime)
    }

    func attributes(_ ino: InodeNumber, _ entry: NamespaceCache.Entry, path: String) throws(NamespaceError)
        -> NodeAttributes
    {
        switch entry {
        case .directory: return directoryAttributes(ino, path: path)
        case .file(let record): return fileAttributes(ino, record)
        case .absent: throw .noEntry(path: path)
        }
    }
}
