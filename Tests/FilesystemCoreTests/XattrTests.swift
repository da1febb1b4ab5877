import FilesystemCore
import Foundation
import Logging
import ObjectStorage
import Synchronization
import SystemPackage
import Testing

@Suite("Extended attributes")
struct XattrTests {
    let caller = Caller(uid: 1000, gid: 1000)

    func writableFilesystem(
        _ store: InMemoryObjectStore = InMemoryObjectStore(), uploadDelay: Duration = .zero
    ) -> (Filesystem, InMemoryObjectStore) {
        makeFilesystem(store) {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = uploadDelay
        }
    }

    /// The value of `name`, read with a buffer of exactly its probed size.
    func value(_ fs: Filesystem, _ name: String, of ino: InodeNumber) async throws -> Data {
        guard case .size(let size) = try await fs.extendedAttribute(name, of: ino, size: 0) else {
            Issue.record("a size-0 probe did not answer with a size")
            return Data()
        }
        guard case .bytes(let data) = try await fs.extendedAttribute(name, of: ino, size: max(size, 1)) else {
            Issue.record("a read did not answer with bytes")
            return Data()
        }
        #expect(data.count == size, "the probe's size is the value's")
        return data
    }

    func names(_ fs: Filesystem, of ino: InodeNumber) async throws -> [String] {
        guard case .bytes(let list) = try await fs.extendedAttributeNames(of: ino, size: 64 << 10) else { return [] }
        return list.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The errno `body` fails with, or nil when it succeeds.
    func errno(_ body: () async throws -> Void) async -> Errno? {
        do {
            try await body()
            return nil
        } catch let error as any ErrnoConvertible {
            return error.errno
        } catch {
            Issue.record("not an errno-carrying error: \(error)")
            return nil
        }
    }

    /// What the store holds in `x-amz-meta-xattr` of `key`, decoded as s3fs would: URL-decode, then the JSON object of
    /// base64 values (JSONSerialization here, independent of the code under test).
    func storedAttributes(_ store: InMemoryObjectStore, _ key: String) throws -> [String: Data] {
        guard let raw = store.metadata(of: key)?["xattr"] else { return [:] }
        let json = try #require(raw.removingPercentEncoding)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        return try object.mapValues { try #require(Data(base64Encoded: $0)) }
    }

    @Test("set, get, list and remove round-trip binary values on a clean file")
    func roundTrip() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("a.txt", Data("hello".utf8))
        let ino = try await fs.walk("a.txt").inode
        let binary = Data([0, 255, 1, 0x2C, 0x22, 0x3A, 10])
        try await fs.setExtendedAttribute("user.binary", to: binary, of: ino)
        try await fs.setExtendedAttribute("user.empty", to: Data(), of: ino)
        #expect(try await value(fs, "user.binary", of: ino) == binary)
        #expect(try await fs.extendedAttribute("user.empty", of: ino, size: 0) == .size(0))
        #expect(
            try await names(fs, of: ino) == ["user.binary", "user.empty"])
        try await fs.removeExtendedAttribute("user.binary", of: ino)
        #expect(await errno { _ = try await fs.extendedAttribute("user.binary", of: ino, size: 100) } == .noData)
        try await fs.removeExtendedAttribute("user.empty", of: ino)
        #expect(store.metadata(of: "a.txt")?["xattr"] == nil, "no attributes left: no xattr key, as s3fs does")
        #expect(store.contents(of: "a.txt") == Data("hello".utf8))
    }

    @Test("x-amz-meta-xattr is s3fs's format: URL-encoded JSON of base64 values, names in byte order")
    func wireFormat() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data("x".utf8), metadata: ["mode": "33188", "color": "blue"], contentType: "text/plain")
        let ino = try await fs.walk("f").inode
        try await fs.setExtendedAttribute("user.foo", to: Data("bar".utf8), of: ino)
        try await fs.setExtendedAttribute("user.a:b", to: Data("5678".utf8), of: ino)
        let raw = try #require(store.metadata(of: "f")?["xattr"])
        #expect(raw == "%7B%22user.a%3Ab%22%3A%22NTY3OA%3D%3D%22%2C%22user.foo%22%3A%22YmFy%22%7D")
        #expect(try storedAttributes(store, "f") == ["user.foo": Data("bar".utf8), "user.a:b": Data("5678".utf8)])
        let info = try await store.head(ObjectKey("f")!)
        #expect(info.metadata["mode"] == "33188" && info.metadata["color"] == "blue", "other metadata kept")
        #expect(info.contentType == "text/plain", "content type kept")
    }

    @Test("setxattr on a clean file is exactly one CopyObject")
    func oneCopy() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data("x".utf8))
        let ino = try await fs.walk("f").inode
        store.resetCounts()
        try await fs.setExtendedAttribute("user.k", to: Data("v".utf8), of: ino)
        #expect(store.counts == [.copy: 1], "requests: \(store.counts)")
        store.resetCounts()
        #expect(try await value(fs, "user.k", of: ino) == Data("v".utf8))
        #expect(store.counts.isEmpty, "the new metadata is cached: \(store.counts)")
    }

    @Test("XATTR_CREATE on an existing name fails with EEXIST, XATTR_REPLACE on a missing one with ENODATA")
    func flags() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data())
        let ino = try await fs.walk("f").inode
        #expect(
            await errno { try await fs.setExtendedAttribute("user.k", to: Data("1".utf8), flags: .replace, of: ino) }
                == .noData)
        try await fs.setExtendedAttribute("user.k", to: Data("1".utf8), flags: .create, of: ino)
        #expect(
            await errno { try await fs.setExtendedAttribute("user.k", to: Data("2".utf8), flags: .create, of: ino) }
                == .fileExists)
        try await fs.setExtendedAttribute("user.k", to: Data("3".utf8), flags: .replace, of: ino)
        #expect(try await value(fs, "user.k", of: ino) == Data("3".utf8))
        #expect(await errno { try await fs.removeExtendedAttribute("user.missing", of: ino) } == .noData)
        #expect(await errno { _ = try await fs.extendedAttribute("user.missing", of: ino, size: 0) } == .noData)
    }

    @Test("symlinks carry attributes like files; a name with a comma, which the format cannot carry, gives EINVAL")
    func symlinksAndNames() async throws {
        let (fs, store) = writableFilesystem()
        let link = try await fs.makeSymlink("target", named: "l", in: .root, caller: caller)
        try await fs.setExtendedAttribute("user.k", to: Data("v".utf8), of: link.inode)
        #expect(try await value(fs, "user.k", of: link.inode) == Data("v".utf8))
        #expect(try storedAttributes(store, "l") == ["user.k": Data("v".utf8)])
        #expect(store.metadata(of: "l")?["mode"] == String(0o120777), "still a symlink")
        #expect(await errno { try await fs.setExtendedAttribute("user.a,b", to: Data(), of: link.inode) } == .invalidArgument)
    }

    @Test("a size-0 probe returns the size; a too-small buffer fails with ERANGE, for values and for lists")
    func sizing() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data())
        let ino = try await fs.walk("f").inode
        try await fs.setExtendedAttribute("user.k", to: Data("12345".utf8), of: ino)
        #expect(try await fs.extendedAttribute("user.k", of: ino, size: 0) == .size(5))
        #expect(await errno { _ = try await fs.extendedAttribute("user.k", of: ino, size: 4) } == .outOfRange)
        #expect(try await fs.extendedAttribute("user.k", of: ino, size: 5) == .bytes(Data("12345".utf8)))
        guard case .size(let listSize) = try await fs.extendedAttributeNames(of: ino, size: 0) else {
            Issue.record("list probe")
            return
        }
        #expect(listSize == "user.k\0".utf8.count)
        #expect(await errno { _ = try await fs.extendedAttributeNames(of: ino, size: listSize - 1) } == .outOfRange)
    }

    @Test("security, trusted and system names: set fails with ENOTSUP, get with ENODATA, list omits them")
    func otherNamespaces() async throws {
        let (fs, store) = writableFilesystem()
        // s3fs stores ACLs in the same map: kept on rewrites, never shown.
        store.seed("f", Data(), metadata: ["xattr": "%7B%22system.posix_acl_access%22%3A%22AgAAAA%3D%3D%22%7D"])
        let ino = try await fs.walk("f").inode
        for name in ["security.selinux", "trusted.overlay.opaque", "system.posix_acl_access"] {
            #expect(
                await errno { try await fs.setExtendedAttribute(name, to: Data("x".utf8), of: ino) } == .notSupported)
            #expect(await errno { try await fs.removeExtendedAttribute(name, of: ino) } == .notSupported)
            #expect(await errno { _ = try await fs.extendedAttribute(name, of: ino, size: 0) } == .noData)
            #expect(fs.extendedAttributeAnsweredAtOnce(name, of: ino)?.errno == .noData, "answered without a task")
        }
        #expect(fs.extendedAttributeAnsweredAtOnce("user.k", of: ino) == nil)
        try await fs.setExtendedAttribute("user.k", to: Data("v".utf8), of: ino)
        #expect(try await names(fs, of: ino) == ["user.k"])
        #expect(try storedAttributes(store, "f")["system.posix_acl_access"] == Data([2, 0, 0, 0]))
    }

    @Test("user.bucketfs.etag and user.bucketfs.upload are read-only: set and remove fail with EPERM")
    func readOnlyAttributes() async throws {
        let (fs, store) = writableFilesystem()
        let etag = store.seed("f", Data("x".utf8))
        let ino = try await fs.walk("f").inode
        #expect(
            try await value(fs, "user.bucketfs.etag", of: ino)
                == Data(etag.replacingOccurrences(of: "\"", with: "").utf8))
        #expect(try await value(fs, "user.bucketfs.upload", of: ino) == Data("uploaded".utf8))
        for name in ["user.bucketfs.etag", "user.bucketfs.upload", "user.bucketfs.other"] {
            #expect(
                await errno { try await fs.setExtendedAttribute(name, to: Data("x".utf8), of: ino) } == .notPermitted)
            #expect(await errno { try await fs.removeExtendedAttribute(name, of: ino) } == .notPermitted)
        }
    }

    @Test("a set that would push user metadata past S3's 2 KiB fails with E2BIG and changes nothing")
    func metadataLimit() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data())
        let ino = try await fs.walk("f").inode
        store.resetCounts()
        #expect(
            await errno { try await fs.setExtendedAttribute("user.big", to: Data(count: 1600), of: ino) }
                == .argListTooLong)
        #expect(store.counts.isEmpty && store.metadata(of: "f")?["xattr"] == nil)
        try await fs.setExtendedAttribute("user.fits", to: Data(count: 1000), of: ino)
        let total = store.metadata(of: "f")!.reduce(0) { $0 + 11 + $1.key.utf8.count + $1.value.utf8.count }
        #expect(total <= 2048)
    }

    @Test(
        "malformed x-amz-meta-xattr is read as no attributes and replaced by the next set",
        arguments: ["not json", "%7B%22user.a%22%3A%22%%%22%7D", "{\"user.a\":\"!!!\"}", "{\"user.a\"}", "%ZZ", "{,}"])
    func malformed(_ raw: String) async throws {
        let (fs, store) = writableFilesystem()
        store.seed("f", Data(), metadata: ["xattr": raw])
        let ino = try await fs.walk("f").inode
        #expect(try await names(fs, of: ino) == [])
        #expect(await errno { _ = try await fs.extendedAttribute("user.a", of: ino, size: 0) } == .noData)
        try await fs.setExtendedAttribute("user.b", to: Data("ok".utf8), of: ino)
        #expect(try storedAttributes(store, "f") == ["user.b": Data("ok".utf8)])
    }

    @Test("an object written by s3fs (or any client) in the s3fs format shows its attributes")
    func readsS3fsObjects() async throws {
        let (fs, store) = writableFilesystem()
        store.seed(
            "f", Data(), metadata: ["xattr": "%7B%22user.foo%22%3A%22YmFy%22%2C%22user.n%22%3A%22NTY3OA%3D%3D%22%7D"])
        store.seed("g", Data(), metadata: ["xattr": "{\"user.plain\": \"YmF6\"}"])
        let f = try await fs.walk("f").inode
        #expect(try await value(fs, "user.foo", of: f) == Data("bar".utf8))
        #expect(try await value(fs, "user.n", of: f) == Data("5678".utf8))
        #expect(try await value(fs, "user.plain", of: try await fs.walk("g").inode) == Data("baz".utf8))
    }

    @Test("attributes set on a pending file go up with its upload, and into its journal, with no copy")
    func pendingFile() async throws {
        let spool = NSTemporaryDirectory() + "xattr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let (fs, store) = makeFilesystem {
            $0.spoolDirectory = spool
            $0.uploadDelay = .seconds(3600)
        }
        let (attributes, opened) = try await fs.create(
            "new.bin", in: .root, mode: 0o644, exclusive: false, caller: caller)
        _ = try await fs.write(opened.handle, offset: 0, data: Data("content".utf8))
        try await fs.setExtendedAttribute("user.while-open", to: Data("1".utf8), of: attributes.inode)
        try await fs.release(opened.handle)
        try await fs.setExtendedAttribute("user.after-close", to: Data("2".utf8), of: attributes.inode)
        #expect(store.contents(of: "new.bin") == nil, "nothing uploaded yet")
        #expect(try await value(fs, "user.bucketfs.upload", of: attributes.inode) == Data("pending".utf8))
        #expect(
            await errno { _ = try await fs.extendedAttribute("user.bucketfs.etag", of: attributes.inode, size: 0) }
                == .noData, "a file never uploaded has no ETag")
        let journals = try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".json") }
        let journal = try #require(journals.first.flatMap { FileManager.default.contents(atPath: spool + "/" + $0) })
        let json = try #require(try JSONSerialization.jsonObject(with: journal) as? [String: Any])
        let journaled = try #require((json["metadata"] as? [String: String])?["xattr"])
        #expect(ExtendedAttributes.decode(journaled)?["user.after-close"] == Data("2".utf8), "journaled for recovery")
        try await fs.syncAll()
        #expect(store.contents(of: "new.bin") == Data("content".utf8))
        #expect(
            try storedAttributes(store, "new.bin") == [
                "user.while-open": Data("1".utf8), "user.after-close": Data("2".utf8),
            ])
        #expect(store.count(.copy) == 0)
        #expect(try await value(fs, "user.bucketfs.upload", of: attributes.inode) == Data("uploaded".utf8))
        let etag = try await store.head(ObjectKey("new.bin")!).etag
        #expect(
            try await value(fs, "user.bucketfs.etag", of: attributes.inode)
                == Data(etag.replacingOccurrences(of: "\"", with: "").utf8))
    }

    @Test("a failed upload shows as user.bucketfs.upload = failed: <reason>")
    func failedUpload() async throws {
        let store = RefusingStore()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let fs = Filesystem(
            store: store,
            configuration: FilesystemConfiguration(spoolDirectory: NSTemporaryDirectory(), uploadDelay: .zero),
            logger: logger)
        let (attributes, opened) = try await fs.create("f", in: .root, mode: 0o644, exclusive: false, caller: caller)
        _ = try await fs.write(opened.handle, offset: 0, data: Data("x".utf8))
        await #expect(throws: (any Error).self) { try await fs.fsync(opened.handle) }
        let status = String(decoding: try await value(fs, "user.bucketfs.upload", of: attributes.inode), as: UTF8.self)
        #expect(status.hasPrefix("failed: ") && status.contains("refused"), "status: \(status)")
        store.refusing.withLock { $0 = false }
        try await fs.fsync(opened.handle)
        #expect(try await value(fs, "user.bucketfs.upload", of: attributes.inode) == Data("uploaded".utf8))
        try await fs.release(opened.handle)
    }

    @Test("directories keep attributes on their marker, list only user ones; chmod keeps them; the root refuses")
    func directories() async throws {
        let (fs, store) = writableFilesystem()
        let dir = try await fs.makeDirectory("d", in: .root, mode: 0o755, caller: caller)
        try await fs.setExtendedAttribute("user.tag", to: Data("t".utf8), of: dir.inode)
        #expect(try storedAttributes(store, "d/") == ["user.tag": Data("t".utf8)])
        #expect(try await names(fs, of: dir.inode) == ["user.tag"])
        #expect(
            await errno { _ = try await fs.extendedAttribute("user.bucketfs.upload", of: dir.inode, size: 0) }
                == .noData)
        _ = try await fs.setAttributes(dir.inode, AttributeChanges(mode: 0o700))
        #expect(try storedAttributes(store, "d/") == ["user.tag": Data("t".utf8)], "chmod keeps the attributes")
        #expect(store.metadata(of: "d/")?["mode"] == String(0o040700))
        #expect(await errno { try await fs.setExtendedAttribute("user.x", to: Data(), of: .root) } == .notSupported)
        #expect(try await names(fs, of: .root) == [])

        // A marker written by another client: read with one HEAD.
        store.seed("e/", Data(), metadata: ["xattr": "%7B%22user.foo%22%3A%22YmFy%22%7D"])
        let other = try await fs.walk("e").inode
        #expect(try await value(fs, "user.foo", of: other) == Data("bar".utf8))
    }
}
