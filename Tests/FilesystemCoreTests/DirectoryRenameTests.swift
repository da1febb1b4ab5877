import FilesystemCore
import Foundation
import ObjectStorage
import SystemPackage
import Testing

@Suite("Rename")
struct RenameTests {
    let caller = Caller(uid: 1000, gid: 1000)

    func writableFilesystem(_ store: InMemoryObjectStore = InMemoryObjectStore(), cacheMemory: Int = 256 << 20)
        -> (Filesystem, InMemoryObjectStore)
    {
        makeFilesystem(store) {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .zero
            $0.cacheMemoryBytes = cacheMemory
        }
    }

    func rename(_ fs: Filesystem, _ from: String, _ to: String, noReplace: Bool = false) async throws {
        func split(_ path: String) async throws -> (InodeNumber, String) {
            let parts = path.split(separator: "/").map(String.init)
            let parent = parts.count == 1 ? InodeNumber.root : try await fs.walk(parts.dropLast().joined(separator: "/")).inode
            return (parent, parts.last!)
        }
        let (fromParent, name) = try await split(from)
        let (toParent, newName) = try await split(to)
        try await fs.rename(name, in: fromParent, to: newName, in: toParent, noReplace: noReplace, exchange: false)
    }

    func keys(_ store: InMemoryObjectStore) async throws -> [String] {
        try await store.listAll(prefix: "", delimiter: nil).objects.map(\.key.rawValue)
    }

    @Test("renaming a file costs one copy and one delete, keeps its metadata, and open handles keep reading")
    func fileRename() async throws {
        let (fs, store) = writableFilesystem(cacheMemory: 1 << 20)
        let data = pattern(3 << 20, seed: 3)
        store.seed("a", data, metadata: ["mode": "33188", "uid": "7"])
        let handle = try await fs.openForReading("a")
        let head = try await fs.read(handle, offset: 0, count: 64 << 10)
        store.resetCounts()
        try await rename(fs, "a", "b")
        #expect(store.count(.copy) == 1)
        #expect(store.count(.delete) == 1)
        #expect(store.count(.put) == 0)
        #expect(try await keys(store) == ["b"])
        #expect(store.metadata(of: "b")?["uid"] == "7")
        var read = head
        while read.count < data.count {
            read.append(try await fs.read(handle, offset: UInt64(read.count), count: 128 << 10))
        }
        try await fs.release(handle)
        #expect(read == data)
        #expect(try await fs.contents("b") == data)
        await #expect(throws: NamespaceError.noEntry(path: "a")) { _ = try await fs.walk("a") }
    }

    @Test("a directory tree moves server-side: every key once, markers too, nothing left behind")
    func directoryTree() async throws {
        let (fs, store) = writableFilesystem()
        var expected: [String: Data] = [:]
        for i in 0..<120 {
            let key = "src/\(i % 3 == 0 ? "sub/" : "")f\(i)"
            expected[key] = pattern(100 + i, seed: UInt64(i))
            store.seed(key, expected[key]!)
        }
        store.seed("src/", Data(), contentType: "application/x-directory")
        store.seed("src/empty/", Data(), contentType: "application/x-directory")
        store.seed("other", Data("x".utf8))
        _ = try await fs.names("src")
        // The listing's HEADs run in the background and end in the directory's metadata index.
        for _ in 0..<1000 where try await keys(store).allSatisfy({ !$0.hasPrefix(".bucketfs/index/") }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        store.resetCounts()
        try await rename(fs, "src", "dst")
        // The intent, then per object one copy and one delete, per directory marker one put (at the new name) and
        // one delete, the old directory's metadata index, and the intent's delete.
        #expect(store.count(.put) == 3)
        #expect(store.count(.copy) == 120)
        #expect(store.count(.delete) == 124)
        let all = try await keys(store)
        #expect(!all.contains { $0.hasPrefix("src") || $0.hasPrefix(".bucketfs") })
        #expect(all.count == 123)
        #expect(all.contains("dst/") && all.contains("dst/empty/"))
        for (key, data) in expected {
            let moved = "dst" + key.dropFirst(3)
            #expect(store.contents(of: moved) == data, "\(moved)")
            #expect(try await fs.contents(moved) == data)
        }
        #expect(try await fs.names("").sorted() == ["dst", "other"])
        #expect(try await fs.names("dst/sub").count == 40)
        await #expect(throws: NamespaceError.noEntry(path: "src")) { _ = try await fs.walk("src") }
        #expect(try await fs.names("dst").count == 82)
    }

    @Test("onto a non-empty directory ENOTEMPTY, onto an empty one it replaces it, into itself EINVAL, onto a file ENOTDIR")
    func directoryTargets() async throws {
        let (fs, store) = writableFilesystem()
        store.seed("a/x", Data("1".utf8))
        store.seed("full/y", Data("2".utf8))
        store.seed("empty/", Data())
        store.seed("file", Data("3".utf8))
        await #expect(throws: NamespaceError.notEmpty(path: "full")) { try await rename(fs, "a", "full") }
        await #expect(throws: NamespaceError.notADirectory(path: "file")) { try await rename(fs, "a", "file") }
        await #expect(throws: NamespaceError.exists(path: "empty")) { try await rename(fs, "a", "empty", noReplace: true) }
        await #expect {
            try await rename(fs, "a", "a/inner")
        } throws: { error in
            if case NamespaceError.invalidArgument = error { true } else { false }
        }
        #expect(store.contents(of: "a/x") == Data("1".utf8))
        try await rename(fs, "a", "empty")
        #expect(store.contents(of: "empty/x") == Data("1".utf8))
        #expect(store.contents(of: "a/x") == nil)
        #expect(try await fs.names("empty") == ["x"])
    }

    @Test("files written below a directory and not yet uploaded move with it and go up under the new name")
    func pendingFilesMove() async throws {
        let (fs, store) = makeFilesystem {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .seconds(3600)  // nothing goes up before the rename
        }
        let dir = try await fs.makeDirectory("d", in: .root, mode: 0o755, caller: caller)
        store.seed("d/old", pattern(1000, seed: 1))
        let (_, opened) = try await fs.create("new", in: dir.inode, mode: 0o644, exclusive: false, caller: caller)
        _ = try await fs.write(opened.handle, offset: 0, data: pattern(5000, seed: 2))
        let old = try await fs.open(try await fs.walk("d/old").inode, writable: true)
        _ = try await fs.write(old.handle, offset: 0, data: Data("EDIT".utf8))
        try await rename(fs, "d", "e")
        #expect(store.contents(of: "e/new") == nil)
        _ = try await fs.write(opened.handle, offset: 5000, data: Data("tail".utf8))
        try await fs.fsync(opened.handle)
        try await fs.fsync(old.handle)
        try await fs.release(opened.handle)
        try await fs.release(old.handle)
        try await fs.syncAll()
        #expect(store.contents(of: "e/new") == pattern(5000, seed: 2) + Data("tail".utf8))
        var edited = pattern(1000, seed: 1)
        edited.replaceSubrange(0..<4, with: Data("EDIT".utf8))
        #expect(store.contents(of: "e/old") == edited)
        #expect(try await keys(store).filter { $0.hasPrefix("d") } == [])
        #expect(try await fs.contents("e/old") == edited)
    }

    @Test("a read handle open below a renamed directory keeps reading the file")
    func openHandleFollowsDirectory() async throws {
        let (fs, store) = writableFilesystem(cacheMemory: 1 << 20)
        let data = pattern(3 << 20, seed: 9)
        store.seed("p/q/file", data)
        let handle = try await fs.openForReading("p/q/file")
        var read = try await fs.read(handle, offset: 0, count: 64 << 10)
        try await rename(fs, "p", "r")
        while read.count < data.count {
            read.append(try await fs.read(handle, offset: UInt64(read.count), count: 128 << 10))
        }
        try await fs.release(handle)
        #expect(read == data)
    }

    @Test("a rename cut short by a crash is finished by the next mount: every file once, byte-exact")
    func interruptedRenameFinishes() async throws {
        let store = InMemoryObjectStore()
        // As a daemon killed part way leaves it: the intent, one key moved, one copied but not deleted, one not
        // copied yet, and the marker still at the source.
        let a = pattern(300, seed: 1), b = pattern(400, seed: 2), c = pattern(500, seed: 3)
        store.seed("from/", Data())
        store.seed("to/a", a)
        store.seed("from/b", b)
        store.seed("to/b", b)
        store.seed("from/deep/c", c)
        let intent = #"{"from":"from\/","started":"2026-12-03T01:00:00Z","to":"to\/","version":1}"#
        store.seed(".bucketfs/renames/1234", Data(intent.utf8))
        let (fs, _) = writableFilesystem(store)
        #expect(try await fs.names("") == ["from", "to"])  // the intent's folder is never shown
        let finished = await fs.finishInterruptedRenames()
        #expect(finished.count == 1)
        #expect(try await keys(store) == ["to/", "to/a", "to/b", "to/deep/c"])
        #expect(store.contents(of: "to/a") == a && store.contents(of: "to/b") == b)
        #expect(store.contents(of: "to/deep/c") == c)
        let (again, _) = writableFilesystem(store)
        #expect(await again.finishInterruptedRenames().isEmpty)
        #expect(try await again.names("") == ["to"])
    }

    @Test(".bucketfs at the mount root is hidden and cannot be created")
    func reservedName() async throws {
        let (fs, store) = writableFilesystem()
        store.seed(".bucketfs/renames/x", Data("{}".utf8))
        store.seed("sub/.bucketfs", Data("kept".utf8))
        #expect(try await fs.names("") == ["sub"])
        #expect(try await fs.names("sub") == [".bucketfs"])
        await #expect(throws: NamespaceError.noEntry(path: ".bucketfs")) { _ = try await fs.walk(".bucketfs") }
        await #expect(throws: NamespaceError.reserved(path: ".bucketfs")) {
            _ = try await fs.makeDirectory(".bucketfs", in: .root, mode: 0o755, caller: caller)
        }
        #expect(NamespaceError.reserved(path: "").errno == .notPermitted)
    }
}
