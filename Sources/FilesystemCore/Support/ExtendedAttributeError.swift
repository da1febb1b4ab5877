/// Why an extended-attribute operation (getxattr, setxattr, listxattr, removexattr) failed.
public enum ExtendedAttributeError: Error, Sendable, Hashable {
    /// The node has no attribute of that name (or the name is in a namespace bucketfs does not store).
    case noAttribute(name: String, path: String)
    /// XATTR_CREATE, and the attribute exists.
    case exists(name: String, path: String)
    /// A namespace other than `user.` (security, trusted, system ACLs), or a node that cannot carry attributes.
    case notSupported(name: String, path: String)
    /// `user.bucketfs.*` is computed by bucketfs and cannot be set or removed.
    case readOnly(name: String)
    /// The object's user metadata would exceed S3's 2 KiB limit.
    case metadataTooLarge(path: String, bytes: Int)
    /// A name the s3fs format cannot carry (a comma).
    case invalidName(name: String)
    /// The caller's buffer is smaller than the value or list.
    case bufferTooSmall(needed: Int, offered: Int)
}
