import FilesystemCore
import Foundation
import ObjectStorage
import Logging
import Synchronization
import Testing

@Suite("Directory metadata index")
struct DirectoryIndexTests {
    let caller = Caller(uid: 1000, gid: 1000)

    func filesystem(_ store: InMemoryObjectStore, index: Bool = true) -> Filesystem {
        makeFilesystem(store) {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .zero
            $0.metadataIndex = index
        }.0
    }

    /// Seeds `count` files `dir/f00`… with s3fs metadata (mode 0600 + i, uid 500 + i).
    func seed(_ store: InMemoryObjectStore, count: Int) {
        for i in 0..<count {
            store.seed(
                String(format: "dir/f%02d", i), pattern(10 + i, seed: UInt64(i)),
                metadata: ["mode": "\(0o100600 + i)", "uid": "\(500 + i)", "mtime": "\(1_600_000_000 + i)"])
        }
    }

    func indexKeys(_ store: InMemoryObjectStore) async throws -> [String] {
        try await store.listAll(prefix: ".bucketfs/index/", delimiter: nil).objects.map(\.key.rawValue)
    }

    /// Waits until an index object exists whose body changed from `previous`; returns its body.
    func awaitIndex(_ store: InMemoryObjectStore, changedFrom previous: Data? = nil) async throws -> Data {
        for _ in 0..<500 {
            if let key = try await indexKeys(store).first, let body = store.contents(of: key), body != previous {
                return body
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no directory index was written")
        return Data()
    }

    /// Lists `dir` and stats every file in it, as `ls -l` does; returns the attributes by name.
    func listLong(_ fs: Filesystem, _ dir: String) async throws -> [String: NodeAttributes] {
        var out: [String: NodeAttributes] = [:]
        for name in try await fs.names(dir) { out[name] = try await fs.walk(dir + "/" + name) }
        return out
    }

    @Test("after the first listing, a fresh mount lists 40 files with one LIST and one GET: no HEAD")
    func freshMountUsesIndex() async throws {
        let store = InMemoryObjectStore()
        seed(store, count: 40)
        let mount = filesystem(store)
        let first = try await listLong(mount, "dir")
        // One HEAD per file (the directory's name is found by listing the root).
        #expect(store.count(.head) == 40)
        _ = try await awaitIndex(store)
        store.resetCounts()
        let second = try await listLong(filesystem(store), "dir")
        #expect(store.count(.head) == 0, "\(store.counts)")
        #expect(store.count(.get) == 1)
        #expect(store.count(.list) <= 2)
        #expect(store.count(.put) == 0)
        #expect(second == first.mapValues { $0 } && second.count == 40)
        #expect(second["f07"]?.uid == 507 && second["f07"]?.permissions == 0o607)
    }

    @Test("stat of every file of a directory without reading it (rsync's way) lists it once and uses its index")
    func statWithoutReaddir() async throws {
        let store = InMemoryObjectStore()
        seed(store, count: 30)
        let first = filesystem(store)
        _ = try await listLong(first, "dir")
        _ = try await awaitIndex(store)
        store.resetCounts()
        let fs = filesystem(store)
        for i in 0..<30 {
            let attributes = try await fs.walk(String(format: "dir/f%02d", i))
            #expect(attributes.uid == UInt32(500 + i))
        }
        await #expect(throws: NamespaceError.noEntry(path: "dir/missing")) { _ = try await fs.walk("dir/missing") }
        // The first lookup in each directory lists it (one page) and reads its index, which answers the rest, the
        // missing name included.
        #expect(store.count(.head) == 0, "\(store.counts)")
        #expect(store.count(.list) == 2, "\(store.counts)")
        #expect(store.count(.get) == 1, "\(store.counts)")
    }

    @Test("an object changed behind the mount's back costs its HEAD and shows its new attributes; the index heals")
    func staleEntryIsHeaded() async throws {
        let store = InMemoryObjectStore()
        seed(store, count: 30)
        let mount = filesystem(store)
        _ = try await listLong(mount, "dir")
        let firstIndex = try await awaitIndex(store)
        // Another tool rewrites one file with new metadata and deletes another.
        store.seed("dir/f03", pattern(999, seed: 9), metadata: ["mode": "\(0o100640)", "uid": "4242"])
        store.remove("dir/f04")
        store.resetCounts()
        let second = filesystem(store)
        let listed = try await listLong(second, "dir")
        #expect(store.count(.head) == 1, "only the changed file: \(store.counts)")
        #expect(listed["f03"]?.uid == 4242 && listed["f03"]?.size == 999 && listed["f03"]?.permissions == 0o640)
        #expect(listed["f04"] == nil && listed.count == 29)
        _ = try await awaitIndex(store, changedFrom: firstIndex)
        store.resetCounts()
        _ = try await listLong(filesystem(store), "dir")
        #expect(store.count(.head) == 0, "the rewritten index did not cover the changed file: \(store.counts)")
    }

    @Test("files written through the mount are indexed at unmount: the next mount needs no HEAD")
    func ownWritesAreIndexed() async throws {
        let store = InMemoryObjectStore()
        let fs = filesystem(store)
        let dir = try await fs.makeDirectory("dir", in: .root, mode: 0o755, caller: caller)
        for i in 0..<20 {
            let (_, opened) = try await fs.create("w\(i)", in: dir.inode, mode: 0o600, exclusive: false, caller: caller)
            _ = try await fs.write(opened.handle, offset: 0, data: pattern(100 + i, seed: UInt64(i)))
            try await fs.release(opened.handle)
        }
        try await fs.syncAll()
        await fs.flushIndexWrites()
        #expect(try await indexKeys(store).count == 1)
        store.resetCounts()
        let listed = try await listLong(filesystem(store), "dir")
        #expect(listed.count == 20)
        #expect(store.count(.head) == 0, "\(store.counts)")
        #expect(listed["w5"]?.permissions == 0o600 && listed["w5"]?.uid == 1000 && listed["w5"]?.size == 105)
    }

    @Test("a malformed or foreign index is ignored (HEADs as without one), then replaced")
    func malformedIndexIgnored() async throws {
        let store = InMemoryObjectStore()
        seed(store, count: 20)
        let mount = filesystem(store)
        _ = try await listLong(mount, "dir")
        _ = try await awaitIndex(store)
        let key = try #require(try await indexKeys(store).first)
        for garbage in [Data("{not json".utf8), Data(#"{"version":1,"path":"elsewhere","entries":{}}"#.utf8)] {
            store.seed(key, garbage)
            store.resetCounts()
            let again = filesystem(store)
            let listed = try await listLong(again, "dir")
            #expect(listed.count == 20 && listed["f02"]?.uid == 502)
            #expect(store.count(.head) == 20)
            _ = try await awaitIndex(store, changedFrom: garbage)
        }
    }

    @Test("with the index off, nothing is read or written; small directories have none")
    func offAndSmall() async throws {
        let store = InMemoryObjectStore()
        seed(store, count: 20)
        store.seed("small/a", Data("1".utf8))
        let fs = filesystem(store, index: false)
        _ = try await listLong(fs, "dir")
        let on = filesystem(store)
        _ = try await listLong(on, "small")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await indexKeys(store).isEmpty)
        #expect(store.count(.put) == 0)
        #expect(store.count(.get) == 0)
    }
}

extension DirectoryIndexTests {
    @Test("a bucket that refuses index writes (read-only credentials) is asked once, then never again")
    func refusedIndexWrites() async throws {
        let inner = InMemoryObjectStore()
        for dir in ["a", "b", "c"] {
            for i in 0..<20 { inner.seed("\(dir)/f\(i)", Data("x".utf8)) }
        }
        let store = RefusingStore(inner: inner, refusingUnder: ".bucketfs/index/")
        var configuration = FilesystemConfiguration(uid: 1000, gid: 1000)
        configuration.spoolDirectory = NSTemporaryDirectory()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let fs = Filesystem(store: store, configuration: configuration, logger: logger)
        _ = try await listLong(fs, "a")
        for _ in 0..<500 where store.refused.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.refused.withLock { $0 } == 1)
        _ = try await listLong(fs, "b")
        _ = try await listLong(fs, "c")
        // Every file HEADed once (and some directory names probed).
        for _ in 0..<500 where inner.count(.head) < 60 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(inner.count(.head) >= 60)
        #expect(store.refused.withLock { $0 } == 1, "index writes were tried again after the first refusal")
        #expect(try await fs.names("a").count == 20)
    }
}
