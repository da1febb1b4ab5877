import FilesystemCore
import Foundation
import ObjectStorage
import SystemPackage
import Testing

@Suite("Directory emulation")
struct NamespaceTests {
    @Test("key a/b/c shows directories a and a/b and file c")
    func implicitDirectories() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("a/b/c", Data("hello".utf8))
        #expect(try await fs.walk("a").kind == .directory)
        #expect(try await fs.walk("a/b").kind == .directory)
        let c = try await fs.walk("a/b/c")
        #expect(c.kind == .file && c.size == 5)
        #expect(try await fs.names("") == ["a"])
        #expect(try await fs.names("a/b") == ["c"])
    }

    @Test("a dir/ marker object is an empty directory")
    func markerDirectory() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("empty/", Data())
        #expect(try await fs.walk("empty").kind == .directory)
        #expect(try await fs.names("empty") == [])
        #expect(try await fs.names("") == ["empty"])
    }

    @Test("a name that is both a file and a prefix is a directory, and the file is hidden")
    func directoryWins() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("x", Data("file".utf8))
        store.seed("x/y", Data("child".utf8))
        #expect(try await fs.names("") == ["x"])
        #expect(try await fs.walk("x").kind == .directory)
        #expect(try await fs.names("x") == ["y"])
    }

    @Test("keys with empty, dot or over-long segments are hidden, never fatal")
    func unrepresentableKeys() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("a//b", Data("1".utf8))
        store.seed("./c", Data("2".utf8))
        store.seed("../d", Data("3".utf8))
        store.seed(String(repeating: "n", count: 300) + "/e", Data("4".utf8))
        store.seed("ok", Data("5".utf8))
        #expect(try await fs.names("") == ["a", "ok"])
        #expect(try await fs.names("a") == [])
    }

    @Test("a missing name fails with ENOENT and a name over 255 bytes with ENAMETOOLONG")
    func lookupErrors() async throws {
        let (fs, _) = makeFilesystem()
        await #expect(throws: NamespaceError.noEntry(path: "nope")) { _ = try await fs.walk("nope") }
        let long = String(repeating: "z", count: 256)
        await #expect(throws: NamespaceError.nameTooLong(path: long)) { _ = try await fs.walk(long) }
        #expect(NamespaceError.noEntry(path: "").errno == .noSuchFileOrDirectory)
        #expect(NamespaceError.nameTooLong(path: "").errno == .fileNameTooLong)
    }

    @Test("BUCKET:PREFIX mounts only the sub-tree")
    func prefixMount() async throws {
        let (fs, store) = makeFilesystem(prefix: "photos")
        store.seed("photos/2024/a.jpg", Data("a".utf8))
        store.seed("other/b", Data("b".utf8))
        #expect(try await fs.names("") == ["2024"])
        #expect(try await fs.contents("2024/a.jpg") == Data("a".utf8))
    }

    @Test("s3fs metadata sets mode, owner and mtime; objects without it get the mount's defaults")
    func posixMetadata() async throws {
        let (fs, store) = makeFilesystem { $0.fileMode = 0o640 }
        store.seed("meta", Data("m".utf8), metadata: ["mode": "33152", "uid": "1234", "gid": "5678", "mtime": "1700000000.5"])
        store.seed("plain", Data("p".utf8))
        let meta = try await fs.walk("meta")
        #expect(meta.permissions == 0o600 && meta.uid == 1234 && meta.gid == 5678)
        #expect(meta.mtime == Timestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000))
        let plain = try await fs.walk("plain")
        #expect(plain.permissions == 0o640 && plain.uid == 1000 && plain.gid == 1000)
    }

    @Test("malformed metadata is tolerated: the defaults stand in for what cannot be read")
    func malformedMetadata() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("bad", Data("b".utf8), metadata: ["mode": "rwxr-xr-x", "mtime": "yesterday", "uid": "-1"])
        let bad = try await fs.walk("bad")
        #expect(bad.permissions == 0o644 && bad.uid == 1000)
    }

    @Test("a symlink object in s3fs format reads back its target")
    func symlink() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("link", Data("target/file".utf8), metadata: ["mode": String(0o120777)])
        let link = try await fs.walk("link")
        #expect(link.kind == .symlink)
        #expect(try await fs.readLink(link.inode) == "target/file")
    }

    @Test("lookups count exactly and forget drops the node")
    func lookupCounts() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("f", Data("1".utf8))
        let first = try await fs.lookUp("f", in: .root)
        let second = try await fs.lookUp("f", in: .root)
        #expect(first.inode == second.inode)
        #expect(fs.inodes.lookupCount(first.inode) == 2)
        fs.forget(first.inode, count: 1)
        #expect(fs.inodes.lookupCount(first.inode) == 1)
        fs.forget(first.inode, count: 1)
        #expect(throws: NamespaceError.unknownInode(first.inode)) { try fs.inodes.node(first.inode) }
    }

    @Test("a listing of 10,000 files then a stat of each costs one HEAD per file once, and none within the TTL")
    func listingThenStat() async throws {
        let store = InMemoryObjectStore()
        for i in 0..<10_000 { store.seed("big/f\(i)", Data("x".utf8)) }
        let (fs, _) = makeFilesystem(store)
        let dir = try await fs.walk("big")
        store.resetCounts()
        let names = try await fs.names("big")
        #expect(names.count == 10_000)
        for name in names { _ = try await fs.lookUp(name, in: dir.inode) }
        #expect(store.count(.list) == 10)
        #expect(store.count(.head) == 10_000)
        store.resetCounts()
        for name in names.prefix(100) { _ = try await fs.lookUp(name, in: dir.inode) }
        #expect(store.counts.values.reduce(0, +) == 0)
    }

    @Test("another client's new, deleted and replaced objects show after the TTL")
    func ttl() async throws {
        let (fs, store) = makeFilesystem { $0.metadataTTL = .milliseconds(50) }
        store.seed("d/old", Data("1".utf8))
        store.seed("d/changing", Data("1".utf8))
        #expect(try await fs.names("d") == ["changing", "old"])
        _ = try await fs.walk("d/changing")
        store.remove("d/old")
        store.seed("d/new", Data("22".utf8))
        store.seed("d/changing", Data("333".utf8))
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await fs.names("d") == ["changing", "new"])
        #expect(try await fs.walk("d/changing").size == 3)
    }
}
