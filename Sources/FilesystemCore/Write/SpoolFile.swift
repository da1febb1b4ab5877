import Dispatch
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Local file I/O on threads of its own: the Swift cooperative pool never waits on a disk.
public enum LocalIO {
    private static let queues = (0..<4).map { DispatchQueue(label: "bucketfs.local-io.\($0)") }
    private static let next = WorkQueueCursor()

    /// Runs `body` on an I/O thread and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let queue = queues[next.take() % queues.count]
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The spool file of one written file: its whole new content (sparse where unwritten), mode 0600.
final class SpoolFile: Sendable {
    let path: String
    let fd: Int32

    /// Creates (or, for recovery, opens) the spool file at `path`.
    /// - Throws: `TransferError.localIO`.
    init(path: String, create: Bool) throws(TransferError) {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw .localIO(path: path, errno: errno) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    func write(_ data: Data, at offset: UInt64) async throws {
        let fd = self.fd
        let path = self.path
        try await LocalIO.run {
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw TransferError.localIO(path: path, errno: errno)
                    }
                    done += n
                }
            }
        }
    }

    /// Reads `range`; bytes past the spool's end (a sparse tail) read as zeros.
    func read(_ range: Range<UInt64>) async throws -> Data {
        let fd = self.fd
        let path = self.path
        return try await LocalIO.run {
            var data = Data(count: range.count)
            try data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
                var done = 0
                while done < raw.count {
                    let n = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(range.lowerBound) + off_t(done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw TransferError.localIO(path: path, errno: errno)
                    }
                    if n == 0 { break }  // past the end: the rest stays zero
                    done += n
                }
            }
            return data
        }
    }

    func truncate(to size: UInt64) async throws {
        let fd = self.fd
        let path = self.path
        try await LocalIO.run {
            guard ftruncate(fd, off_t(size)) == 0 else { throw TransferError.localIO(path: path, errno: errno) }
        }
    }

    /// fdatasync(2): the bytes are on the local disk.
    func sync() async throws {
        let fd = self.fd
        let path = self.path
        try await LocalIO.run {
            guard fdatasync(fd) == 0 else { throw TransferError.localIO(path: path, errno: errno) }
        }
    }

    /// Bytes the spool takes on disk.
    var allocatedBytes: UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return UInt64(st.st_blocks) * 512
    }

    func remove() { unlink(path) }
}
