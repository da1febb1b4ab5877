import ObjectStorage

/// Maps paths inside the mount to object keys under the mount's prefix, and decides which listed names can be paths.
///
/// A node's path is relative to the mount root, `""` for the root, `a/b` below it. The file at `a/b` is key
/// `PREFIX a/b`; the directory at `a/b` is every key under `PREFIX a/b/`, and its marker object is `PREFIX a/b/`.
public struct KeyMapping: Sendable, Hashable {
    /// The sub-tree mounted, empty or ending with `/`.
    public let prefix: String

    /// Longest single name: NAME_MAX.
    public static let maximumNameLength = 255

    /// - Parameter prefix: the `PREFIX` of `BUCKET:PREFIX`; a missing trailing `/` is added.
    public init(prefix: String) {
        let trimmed = prefix.drop { $0 == "/" }
        self.prefix = trimmed.isEmpty || trimmed.hasSuffix("/") ? String(trimmed) : trimmed + "/"
    }

    /// The path of `name` in the directory at `parent`.
    public func path(of name: String, in parent: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }

    /// The key of the file (or symlink) at `path`.
    /// - Throws: `NamespaceError.nameTooLong` when the key would exceed S3's 1,024 bytes, `.reserved` for
    ///   `.bucketfs` at the root.
    public func fileKey(_ path: String) throws(NamespaceError) -> ObjectKey {
        guard !Self.isReserved(path) else { throw .reserved(path: path) }
        guard let key = ObjectKey(prefix + path) else { throw .nameTooLong(path: path) }
        return key
    }

    /// The listing prefix of the directory at `path` (`PREFIX path/`, or `PREFIX` for the root).
    public func directoryPrefix(_ path: String) -> String {
        path.isEmpty ? prefix : prefix + path + "/"
    }

    /// The key of the directory marker at `path`.
    public func markerKey(_ path: String) throws(NamespaceError) -> ObjectKey {
        guard !Self.isReserved(path) else { throw .reserved(path: path) }
        guard !path.isEmpty, let key = ObjectKey(prefix + path + "/") else { throw .nameTooLong(path: path) }
        return key
    }

    /// Whether a name found in a listing can be shown as a directory entry: not empty (`a//b`), not `.` or `..`,
    /// at most 255 bytes, no NUL.
    public static func isRepresentable(_ name: Substring) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.utf8.count <= maximumNameLength
            && !name.utf8.contains(0)
    }

    /// Whether a name given by the kernel is acceptable for a new entry.
    /// - Throws: `NamespaceError.nameTooLong` over 255 bytes, `.invalidName` for names S3 keys cannot hold.
    public static func validateNewName(_ name: String) throws(NamespaceError) {
        guard name.utf8.count <= maximumNameLength else { throw .nameTooLong(path: name) }
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else { throw .invalidName(name: name) }
    }
}
