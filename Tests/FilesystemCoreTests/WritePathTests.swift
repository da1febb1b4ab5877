import FilesystemCore
import Foundation
import ObjectStorage
import Testing

@Suite("Write path")
struct WritePathTests {
    let caller = Caller(uid: 1000, gid: 1000)

    /// A writable filesystem over a fresh in-memory store, uploading as soon as a file is closed.
    func writableFilesystem() -> (Filesystem, InMemoryObjectStore) {
        makeFilesystem {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .zero
        }
    }

    /// Writes `data` into a new file `name` at the root in `chunk`-sized writes; returns the open handle.
    func createAndWrite(_ fs: Filesystem, _ name: String, _ data: Data, chunk: Int = 1 << 20) async throws
        -> FileHandleID
    {
        let (_, opened) = try await fs.create(name, in: .root, mode: 0o640, exclusive: false, caller: caller)
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + chunk)
            _ = try await fs.write(opened.handle, offset: UInt64(offset), data: data[offset..<end])
            offset = end
        }
        return opened.handle
    }

    func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), what)
    }

    @Test("a large file written front to back streams parts while open, and completes only after close")
    func streamsWhileWriting() async throws {
        let (fs, store) = writableFilesystem()
        let data = pattern(45 << 20, seed: 7)
        let handle = try await createAndWrite(fs, "big.bin", data)
        try await eventually("parts go up before close") { store.count(.uploadPart) >= 4 }
        #expect(store.contents(of: "big.bin") == nil, "no object is visible before the last part is in")
        try await fs.release(handle)
        try await fs.syncAll()
        #expect(store.contents(of: "big.bin") == data)
        #expect(store.count(.completeMultipart) == 1)
        #expect(store.count(.createMultipart) == 1)
        #expect(store.bytesUploaded < UInt64(data.count) + (1 << 20), "no part was sent twice")
        #expect(store.openUploadIDs.isEmpty)
        #expect(store.metadata(of: "big.bin")?["mode"] == String(0o100640), "metadata as of the close")
    }

    @Test("a write below the streamed prefix abandons the stream; the file uploads whole and exact")
    func rewriteBreaksStream() async throws {
        let (fs, store) = writableFilesystem()
        var data = pattern(40 << 20, seed: 8)
        let handle = try await createAndWrite(fs, "zip.bin", data)
        try await eventually("parts go up before close") { store.count(.uploadPart) >= 2 }
        let header = pattern(4096, seed: 9)
        _ = try await fs.write(handle, offset: 100, data: header)
        data.replaceSubrange(100..<(100 + header.count), with: header)
        try await fs.release(handle)
        try await fs.syncAll()
        #expect(store.contents(of: "zip.bin") == data)
        try await eventually("the abandoned upload is aborted") { store.openUploadIDs.isEmpty }
    }

    @Test("unlinking a file while it streams aborts its upload and leaves no object")
    func unlinkWhileStreaming() async throws {
        let (fs, store) = writableFilesystem()
        let handle = try await createAndWrite(fs, "gone.bin", pattern(40 << 20, seed: 10))
        try await eventually("parts go up before close") { store.count(.uploadPart) >= 2 }
        try await fs.unlink("gone.bin", in: .root)
        try await fs.release(handle)
        try await fs.syncAll()
        try await eventually("the upload is aborted") { store.openUploadIDs.isEmpty }
        #expect(store.contents(of: "gone.bin") == nil)
    }

    @Test("a 1 MiB edit in the middle of a 64 MiB object uploads at most two parts' worth of bytes")
    func smallEditOfLargeObject() async throws {
        let (fs, store) = writableFilesystem()
        var data = pattern(64 << 20, seed: 11)
        store.seed("large.bin", data)
        let ino = try await fs.walk("large.bin").inode
        let opened = try await fs.open(ino, writable: true)
        let edit = pattern(1 << 20, seed: 12)
        _ = try await fs.write(opened.handle, offset: 30 << 20, data: edit)
        data.replaceSubrange((30 << 20)..<(31 << 20), with: edit)
        try await fs.release(opened.handle)
        store.resetCounts()
        try await fs.syncAll()
        #expect(store.contents(of: "large.bin") == data)
        #expect(store.bytesUploaded <= 2 * (8 << 20), "uploaded \(store.bytesUploaded) bytes for a 1 MiB edit")
        #expect(store.count(.uploadPartCopy) >= 2, "unchanged ranges are copied server-side")
    }

    @Test("fsync of a file still open for writing returns once it is uploaded")
    func fsyncWhileOpen() async throws {
        let (fs, store) = makeFilesystem {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .seconds(3600)
        }
        let handle = try await createAndWrite(fs, "open.txt", Data("synced".utf8))
        try await fs.fsync(handle)
        #expect(store.contents(of: "open.txt") == Data("synced".utf8))
        try await fs.release(handle)
    }

    @Test("creating 1,000 small files costs at most 1.1 requests per file")
    func smallFilesCost() async throws {
        let (fs, store) = writableFilesystem()
        _ = try await fs.names("")  // the kernel lists the (empty) target directory first, as tar's mkdir does
        store.resetCounts()
        for i in 0..<1000 {
            let name = "f\(i).txt"
            // As the kernel does: a lookup of the new name first, then create.
            await #expect(throws: (any Error).self) { try await fs.lookUp(name, in: .root) }
            let handle = try await createAndWrite(fs, name, pattern(4096, seed: UInt64(i)))
            try await fs.release(handle)
        }
        try await fs.syncAll()
        let total = store.counts.values.reduce(0, +)
        #expect(total <= 1100, "1,000 files cost \(total) requests: \(store.counts)")
        // The directory's metadata index may be written too (2 s after the last change): it is not a file.
        #expect(store.keys.filter { !$0.hasPrefix(".bucketfs/") }.count == 1000)
    }
}
