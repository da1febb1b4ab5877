import FilesystemCore
import Foundation
import ObjectStorage
import SystemPackage
import Testing

@Suite("Read path")
struct ReadPathTests {
    @Test("files of 0, 1, 5 MiB + 1 and 20 MiB read back byte-exact", arguments: [0, 1, (5 << 20) + 1, 20 << 20])
    func byteExact(size: Int) async throws {
        let (fs, store) = makeFilesystem()
        let data = pattern(size, seed: UInt64(size))
        store.seed("f", data)
        #expect(try await fs.contents("f") == data)
    }

    @Test("random reads return the right bytes and fetch little more than they need")
    func randomReads() async throws {
        let (fs, store) = makeFilesystem()
        let data = pattern(16 << 20)
        store.seed("r", data)
        let handle = try await fs.openForReading("r")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let offset = Int.random(in: 0..<(data.count - 4096), using: &generator)
            let got = try await fs.read(handle, offset: UInt64(offset), count: 4096)
            #expect(got == data[offset..<(offset + 4096)])
        }
        // Each 4 KiB random read touches at most two 128 KiB blocks, and no readahead starts.
        #expect(store.count(.get) <= 100)
    }

    @Test("a sequential 64 MiB read costs a few large GETs, not one per kernel request")
    func sequentialRequestCount() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("big", pattern(64 << 20))
        store.resetCounts()
        _ = try await fs.contents("big", chunk: 128 << 10)
        #expect(store.count(.get) <= 12)
    }

    @Test("a sequential read whose kernel requests arrive out of order still costs a few large GETs")
    func outOfOrderSequentialRequestCount() async throws {
        let (fs, store) = makeFilesystem()
        let data = pattern(64 << 20)
        store.seed("big", data)
        let handle = try await fs.openForReading("big")
        store.resetCounts()
        // The kernel's 4 MiB readahead as four 1 MiB requests, each group served last-first (the worst order).
        for group in stride(from: 0, to: 64 << 20, by: 4 << 20) {
            for offset in stride(from: group + (3 << 20), through: group, by: -(1 << 20)) {
                let got = try await fs.read(handle, offset: UInt64(offset), count: 1 << 20)
                #expect(got == data[offset..<(offset + (1 << 20))])
            }
        }
        #expect(store.count(.get) <= 12)
    }

    @Test("four readers of the same file at once cause the GETs of one")
    func sharedFetches() async throws {
        let store = InMemoryObjectStore(delay: .milliseconds(2))
        let (fs, _) = makeFilesystem(store)
        let data = pattern(16 << 20)
        store.seed("shared", data)
        _ = try await fs.walk("shared")
        store.resetCounts()
        try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<4 { group.addTask { try await fs.contents("shared") } }
            for try await got in group { #expect(got == data) }
        }
        let bytesFetched = store.count(.get)
        #expect(bytesFetched <= 12)
    }

    @Test("an object replaced under an open handle gives ESTALE, never mixed bytes")
    func replacedObject() async throws {
        let (fs, store) = makeFilesystem()
        store.seed("v", pattern(32 << 20, seed: 1))
        let handle = try await fs.openForReading("v")
        _ = try await fs.read(handle, offset: 0, count: 4096)
        store.seed("v", pattern(32 << 20, seed: 2))
        await #expect(throws: NamespaceError.changedRemotely(key: "v")) {
            _ = try await fs.read(handle, offset: 24 << 20, count: 4096)
        }
        #expect(NamespaceError.changedRemotely(key: "v").errno == .staleNFSFileHandle)
    }

    @Test("the block cache stays within its budget while reading three times its size")
    func cacheBudget() async throws {
        let (fs, store) = makeFilesystem { $0.cacheMemoryBytes = 4 << 20 }
        store.seed("a", pattern(12 << 20))
        _ = try await fs.contents("a")
        #expect(fs.blocks.cachedBytes <= 4 << 20)
    }

    @Test("readahead grows while reads are sequential and resets on a jump")
    func readAheadWindow() {
        var ahead = ReadAhead(initialWindow: 1 << 20, maximumWindow: 8 << 20)
        var windows: [Range<UInt64>] = []
        var offset: UInt64 = 0
        while offset < 32 << 20 {
            if let r = ahead.read(offset: offset, count: 128 << 10, size: 64 << 20) { windows.append(r) }
            offset += 128 << 10
        }
        #expect(!windows.isEmpty)
        #expect(windows.allSatisfy { $0.count <= 8 << 20 })
        #expect(ahead.read(offset: 50 << 20, count: 4096, size: 64 << 20) == nil)
    }
}
