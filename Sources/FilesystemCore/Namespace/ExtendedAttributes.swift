import Foundation

/// The extended attributes of one object, carried in its `x-amz-meta-xattr` user metadata in s3fs-fuse's format, so
/// that buckets written by either read the same.
///
/// The format: a JSON-like object `{"user.a":"YmFy","user.b":""}` mapping each attribute name to the base64 (RFC
/// 4648, padded) of its value, names in byte order, no spaces and no escaping, the whole then URL-encoded (every byte
/// but `A-Z a-z 0-9 . - _ ~ /` as `%XX`, upper-case hex). An object with no attributes carries no `xattr` key.
///
/// Entries of every namespace are kept as stored (s3fs also stores `system.posix_acl_*` here), so that a rewrite keeps
/// what this mount does not show; only `user.*` names are visible through the filesystem.
public struct ExtendedAttributes: Sendable, Hashable {
    /// The user-metadata name (without `x-amz-meta-`) that holds the attributes.
    public static let metadataName = "xattr"

    /// Values by attribute name, as stored.
    public private(set) var values: [String: Data]

    /// Attributes with these values (none by default).
    public init(_ values: [String: Data] = [:]) {
        self.values = values
    }

    /// The attributes in `metadata[xattr]`: none when the key is absent, nil when its value is not in the format.
    public init?(metadata: [String: String]) {
        guard let text = metadata[Self.metadataName] else {
            self.init()
            return
        }
        guard let parsed = Self.decode(text) else { return nil }
        self.init(parsed)
    }

    /// Whether there are no attributes at all (of any namespace).
    public var isEmpty: Bool { values.isEmpty }

    /// The value of `name`; setting nil removes it.
    public subscript(name: String) -> Data? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The `user.*` names, in byte order.
    public var userNames: [String] {
        values.keys.filter { $0.hasPrefix(ExtendedAttributeName.userPrefix) }.sorted {
            Array($0.utf8).lexicographicallyPrecedes($1.utf8)
        }
    }

    /// `metadata` with its `xattr` entry set to these attributes, or removed when there are none (as s3fs does).
    public func applied(to metadata: [String: String]) -> [String: String] {
        var out = metadata
        out[Self.metadataName] = encoded
        return out
    }

    /// The URL-encoded metadata value, or nil when there are no attributes.
    public var encoded: String? {
        guard !values.isEmpty else { return nil }
        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        let body = names.map { "\"\($0)\":\"\(values[$0]!.base64EncodedString())\"" }.joined(separator: ",")
        return Self.urlEncode("{" + body + "}")
    }

    /// Parses a metadata value; nil when it is not in the format (which callers log and treat as no attributes).
    public static func decode(_ text: String) -> [String: Data]? {
        guard let bytes = urlDecode(text), let json = String(bytes: bytes, encoding: .utf8) else { return nil }
        let trimmed = json.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{"), trimmed.hasSuffix("}"), trimmed.count >= 2 else { return nil }
        let body = trimmed.dropFirst().dropLast()
        var out: [String: Data] = [:]
        guard !body.trimmingCharacters(in: .whitespaces).isEmpty else { return out }
        // Values are base64 and names hold no comma (setting one is refused), so commas separate pairs and the
        // last colon of a pair separates its name from its value, as s3fs reads it.
        for pair in body.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = pair.lastIndex(of: ":"),
                let name = unquote(pair[..<colon]), !name.isEmpty,
                let value = unquote(pair[pair.index(after: colon)...]),
                let data = Data(base64Encoded: value)
            else { return nil }
            out[name] = data
        }
        return out
    }

    private static func unquote(_ text: Substring) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") else { return nil }
        return String(t.dropFirst().dropLast())
    }

    /// s3fs's `urlEncodePath`: unreserved characters and `/` stay, every other byte becomes `%XX`.
    static func urlEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// `%XX` sequences decoded (either case); nil for a `%` not followed by two hex digits.
    static func urlDecode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let high = hexValue(bytes.removeFirst()), let low = hexValue(bytes.removeFirst())
            else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// What an extended attribute's name says about where it lives.
public enum ExtendedAttributeName {
    /// The namespace bucketfs stores.
    public static let userPrefix = "user."
    /// Attributes bucketfs computes (read-only): `user.bucketfs.etag`, `user.bucketfs.upload`.
    public static let bucketfsPrefix = "user.bucketfs."
    /// The object's ETag without quotes; absent while a file has no uploaded version.
    public static let etag = "user.bucketfs.etag"
    /// `uploaded`, `pending` or `failed: <reason>`.
    public static let upload = "user.bucketfs.upload"

    /// The namespaces a name may belong to.
    public enum Kind: Sendable, Hashable {
        /// `user.*`: stored in the object's metadata.
        case stored
        /// `user.bucketfs.*`: computed, read-only.
        case computed
        /// `security.*`, `trusted.*`, `system.*`: not supported.
        case unsupported
    }

    /// Which namespace `name` is in.
    public static func kind(of name: String) -> Kind {
        if name.hasPrefix(bucketfsPrefix) { return .computed }
        if name.hasPrefix(userPrefix) { return .stored }
        return .unsupported
    }
}

/// setxattr(2)'s flags.
public struct ExtendedAttributeFlags: OptionSet, Sendable, Hashable {
    /// The flags as setxattr(2) passes them; bits other than the two below are ignored (the kernel rejects them).
    public let rawValue: Int32
    /// Flags from setxattr(2)'s `flags` argument.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// XATTR_CREATE (1, <linux/xattr.h>): fail with EEXIST if the attribute exists.
    public static let create = ExtendedAttributeFlags(rawValue: 1)
    /// XATTR_REPLACE (2): fail with ENODATA if it does not.
    public static let replace = ExtendedAttributeFlags(rawValue: 2)
}

/// What getxattr(2) and listxattr(2) answer: the size needed (for a size-0 probe), or the bytes.
public enum ExtendedAttributeReply: Sendable, Hashable {
    /// The size needed, for a size-0 probe (fuse_reply_xattr).
    case size(Int)
    /// The value, or the NUL-terminated names (fuse_reply_buf).
    case bytes(Data)

    /// The answer to a request with a buffer of `size` bytes (0: a probe).
    /// - Throws: `ExtendedAttributeError.bufferTooSmall` (ERANGE) when `data` does not fit.
    static func answering(_ data: Data, size: Int) throws(ExtendedAttributeError) -> ExtendedAttributeReply {
        if size == 0 { return .size(data.count) }
        guard data.count <= size else { throw .bufferTooSmall(needed: data.count, offered: size) }
        return .bytes(data)
    }
}
