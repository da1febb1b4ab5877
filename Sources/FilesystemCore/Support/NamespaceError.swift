/// Why a namespace operation (lookup, create, rename, remove, readdir) failed.
public enum NamespaceError: Error, Sendable, Hashable {
    case noEntry(path: String)
    case notEmpty(path: String)
    case nameTooLong(path: String)
    case invalidName(name: String)
    case notADirectory(path: String)
    case isADirectory(path: String)
    case exists(path: String)
    /// The object under an open handle was replaced by another client.
    case changedRemotely(key: String)
    /// The inode or handle is not (or no longer) known: a kernel/bridge bug or a race with forget.
    case unknownInode(InodeNumber)
    case unknownHandle(FileHandleID)
    /// The mount is read-only (`--read-only`, `-o ro`).
    case readOnly
    /// An operation S3 cannot represent (hard links, device nodes, `RENAME_EXCHANGE`).
    case notSupported(operation: String)
    case invalidArgument(detail: String)
    /// A symlink target longer than bucketfs accepts.
    case symlinkTooLong(path: String)
    case permissionDenied(path: String)
    case fileTooLarge(path: String)
    /// The name bucketfs keeps for itself at the mount root (`.bucketfs`).
    case reserved(path: String)
}

/// Why moving data to or from the store failed.
public enum TransferError: Error, Sendable, Hashable {
    /// A read or write of a local cache or spool file failed.
    case localIO(path: String, errno: Int32)
    /// The spool is full and the upload that would free it failed.
    case spoolFull
    /// The data written could not be uploaded; carries the store's reason.
    case uploadFailed(key: String, reason: String)
}
