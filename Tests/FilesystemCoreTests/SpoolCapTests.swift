import FilesystemCore
import Foundation
import ObjectStorage
import Testing

@Suite("Spool size cap", .timeLimit(.minutes(1)))
struct SpoolCapTests {
    let caller = Caller(uid: 1000, gid: 1000)
    static let cap: UInt64 = 1 << 20
    static let chunk = 128 << 10

    /// A filesystem whose spool holds at most `cap` bytes, over a store that takes `delay` per request, with the
    /// default quiet time after close (so a waiting writer has to make uploads urgent).
    func cappedFilesystem(cap: UInt64? = Self.cap, delay: Duration? = .milliseconds(50)) -> (
        Filesystem, InMemoryObjectStore
    ) {
        makeFilesystem(InMemoryObjectStore(delay: delay)) {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.spoolCapacity = cap
        }
    }

    /// Creates `name` and writes `data` in `chunk`-sized writes, calling `afterWrite` after each; returns the handle
    /// and the inode.
    func createAndWrite(
        _ fs: Filesystem, _ name: String, _ data: Data, afterWrite: () -> Void = {}
    ) async throws -> (FileHandleID, InodeNumber) {
        let (attributes, opened) = try await fs.create(name, in: .root, mode: 0o644, exclusive: false, caller: caller)
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + Self.chunk)
            _ = try await fs.write(opened.handle, offset: UInt64(offset), data: data[offset..<end])
            afterWrite()
            offset = end
        }
        return (opened.handle, attributes.inode)
    }

    func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), what)
    }

    @Test("files written and closed one after another never take the spool past its cap plus one write")
    func spoolStaysUnderCap() async throws {
        let (fs, store) = cappedFilesystem()
        var highest: UInt64 = 0
        var files: [String: Data] = [:]
        for i in 0..<6 {
            let data = pattern(512 << 10, seed: UInt64(40 + i))
            files["f\(i).bin"] = data
            let (handle, _) = try await createAndWrite(fs, "f\(i).bin", data) { highest = max(highest, fs.spoolBytes) }
            try await fs.release(handle)
        }
        try await fs.syncAll()
        for (name, data) in files { #expect(store.contents(of: name) == data, "\(name) arrives byte-exact") }
        #expect(highest <= Self.cap + UInt64(Self.chunk), "spool peaked at \(highest) bytes")
        try await eventually("every spool is retired and refunded") { fs.spoolBytes == 0 }
    }

    @Test("a writer blocked on a full spool resumes once uploads retire closed files")
    func blockedWriterResumes() async throws {
        // Slow enough that no upload ends before the checks below, however loaded the machine.
        let (fs, store) = cappedFilesystem(delay: .seconds(3))
        for i in 0..<2 {
            let (handle, _) = try await createAndWrite(fs, "full\(i).bin", pattern(512 << 10, seed: UInt64(i)))
            try await fs.release(handle)
        }
        #expect(fs.spoolBytes == Self.cap)
        #expect(store.count(.put) == 0, "nothing is uploaded yet: the store is slow")
        let data = pattern(Self.chunk, seed: 9)
        let (handle, _) = try await createAndWrite(fs, "next.bin", data)
        #expect(store.count(.put) >= 1, "the write returned only after an upload freed spool space")
        try await fs.release(handle)
        try await fs.syncAll()
        #expect(store.contents(of: "next.bin") == data)
    }

    @Test("a write waiting on a full spool ends with CancellationError (EINTR) when interrupted, charging nothing")
    func waitingWriteIsInterruptible() async throws {
        // No upload ends during this test (CI once took 10 s for it with a 2 s delay), so the write surely waits.
        let (fs, store) = cappedFilesystem(delay: .seconds(300))
        for i in 0..<2 {
            let (handle, _) = try await createAndWrite(fs, "held\(i).bin", pattern(512 << 10, seed: UInt64(20 + i)))
            try await fs.release(handle)
        }
        let (_, opened) = try await fs.create("late.bin", in: .root, mode: 0o644, exclusive: false, caller: caller)
        let write = Task { try await fs.write(opened.handle, offset: 0, data: pattern(Self.chunk, seed: 21)) }
        try await Task.sleep(for: .milliseconds(100))
        write.cancel()
        await #expect(throws: CancellationError.self) { try await write.value }
        #expect(store.count(.put) == 0, "it was interrupted while uploads were still running")
        #expect(fs.spoolBytes == Self.cap, "the interrupted write reserved nothing")
        try await fs.release(opened.handle)
    }

    @Test("a single file larger than the cap still completes: its writer goes over the cap rather than wait")
    func fileLargerThanCap() async throws {
        let (fs, store) = cappedFilesystem(delay: nil)
        let data = pattern(4 << 20, seed: 11)
        let (handle, _) = try await createAndWrite(fs, "big.bin", data)
        #expect(fs.spoolBytes == UInt64(data.count), "the whole file is in the spool while it is open")
        try await fs.release(handle)
        try await fs.syncAll()
        #expect(store.contents(of: "big.bin") == data)
        try await eventually("its spool is refunded once uploaded") { fs.spoolBytes == 0 }
    }

    @Test("a truncate refunds the spool bytes past the new size; sparse growth and rewrites cost nothing")
    func truncateRefunds() async throws {
        let (fs, store) = cappedFilesystem(cap: nil, delay: nil)
        let data = pattern(1 << 20, seed: 12)
        let (handle, ino) = try await createAndWrite(fs, "t.bin", data)
        #expect(fs.spoolBytes == 1 << 20)
        _ = try await fs.setAttributes(ino, AttributeChanges(size: 256 << 10))
        #expect(fs.spoolBytes == 256 << 10)
        _ = try await fs.setAttributes(ino, AttributeChanges(size: 8 << 20))
        #expect(fs.spoolBytes == 256 << 10, "growth by truncate is sparse")
        _ = try await fs.write(handle, offset: 0, data: data[0..<(128 << 10)])
        #expect(fs.spoolBytes == 256 << 10, "rewriting spooled bytes costs nothing")
        _ = try await fs.write(handle, offset: 1 << 20, data: data[0..<(128 << 10)])
        #expect(fs.spoolBytes == (256 + 128) << 10, "writing into the sparse tail is charged")
        try await fs.release(handle)
        try await fs.syncAll()
        #expect(store.contents(of: "t.bin")?.count == 8 << 20)
        try await eventually("its spool is refunded once uploaded") { fs.spoolBytes == 0 }
    }

    @Test("a spool recovered at mount is charged until its upload retires it")
    func recoveredSpoolIsCharged() async throws {
        let directory = NSTemporaryDirectory() + "spoolcap-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = InMemoryObjectStore()
        let (crashed, _) = makeFilesystem(store) { $0.spoolDirectory = directory }
        let data = pattern(300 << 10, seed: 13)
        let (handle, _) = try await createAndWrite(crashed, "r.bin", data)
        try await crashed.flush(handle)  // the journal is saved; the daemon "dies" before release
        let (fs, _) = makeFilesystem(store) {
            $0.spoolDirectory = directory
            $0.spoolCapacity = Self.cap
        }
        fs.recoverSpool()
        #expect(fs.spoolBytes == UInt64(data.count))
        try await fs.syncAll()
        #expect(store.contents(of: "r.bin") == data)
        try await eventually("the recovered spool is refunded once uploaded") { fs.spoolBytes == 0 }
    }
}
