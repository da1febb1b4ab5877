import ObjectStorage
import SystemPackage

/// An error that knows which errno the kernel should see.
public protocol ErrnoConvertible: Error {
    var errno: Errno { get }
}

// Every errno bucketfs returns is chosen here, with no `default:`, so that a new case does not compile until
// someone picks its errno. The README's semantics section and the man page list these; tests pin them.

extension NamespaceError: ErrnoConvertible {
    public var errno: Errno {
        switch self {
        case .noEntry: .noSuchFileOrDirectory
        case .notEmpty: .directoryNotEmpty  // rmdir(2), rename(2)
        case .nameTooLong: .fileNameTooLong  // NAME_MAX 255; S3 keys are at most 1,024 bytes
        case .invalidName: .invalidArgument
        case .notADirectory: .notDirectory
        case .isADirectory: .isDirectory
        case .exists: .fileExists  // O_EXCL, mkdir(2), RENAME_NOREPLACE
        case .changedRemotely: .staleNFSFileHandle  // the object under an open handle was replaced
        case .unknownInode, .unknownHandle: .badFileDescriptor
        case .readOnly: .readOnlyFileSystem
        case .notSupported: .notPermitted  // link(2) says EPERM when the filesystem does not support hard links
        case .invalidArgument: .invalidArgument
        case .symlinkTooLong: .fileNameTooLong
        case .permissionDenied: .permissionDenied
        case .fileTooLarge: .fileTooLarge  // S3 objects are at most 5 TiB
        case .reserved: .notPermitted  // .bucketfs at the mount root holds rename intents
        }
    }
}

extension ExtendedAttributeError: ErrnoConvertible {
    public var errno: Errno {
        switch self {
        case .noAttribute: .noData  // getxattr(2), removexattr(2), XATTR_REPLACE: ENODATA
        case .exists: .fileExists  // XATTR_CREATE
        case .notSupported: .notSupported  // ENOTSUP: security.*, trusted.*, system.* (ACLs) are not stored
        case .readOnly: .notPermitted  // user.bucketfs.* is computed, as EPERM marks immutable attributes
        case .metadataTooLarge: .argListTooLong  // E2BIG, as setxattr(2) names a value too large for the filesystem
        case .invalidName: .invalidArgument
        case .bufferTooSmall: .outOfRange  // ERANGE: the caller retries with a size-0 probe
        }
    }
}

extension TransferError: ErrnoConvertible {
    public var errno: Errno {
        switch self {
        case .localIO(_, let code): Errno(rawValue: code)
        case .spoolFull: .noSpace
        case .uploadFailed: .ioError
        }
    }
}

extension ObjectStoreError: ErrnoConvertible {
    public var errno: Errno {
        switch self {
        case .notFound: .noSuchFileOrDirectory
        case .noSuchBucket: Errno(rawValue: 19)  // ENODEV: the bucket itself went away under the mount
        case .preconditionFailed: .staleNFSFileHandle  // If-Match failed: the object changed under us
        case .accessDenied: .permissionDenied
        case .archived: .resourceTemporarilyUnavailable  // restore it (user.bucketfs.restore), then retry
        case .throttled, .server, .transport, .malformedResponse, .invalidRequest, .invalidRange: .ioError
        }
    }
}
