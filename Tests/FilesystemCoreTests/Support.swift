import FilesystemCore
import Foundation
import Logging
import ObjectStorage

/// A filesystem over a fresh in-memory store.
func makeFilesystem(
    _ store: InMemoryObjectStore = InMemoryObjectStore(), prefix: String = "",
    configure: (inout FilesystemConfiguration) -> Void = { _ in }
) -> (Filesystem, InMemoryObjectStore) {
    var configuration = FilesystemConfiguration(mapping: KeyMapping(prefix: prefix), uid: 1000, gid: 1000)
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return (Filesystem(store: store, configuration: configuration, logger: logger), store)
}

/// Deterministic pseudo-random bytes.
func pattern(_ count: Int, seed: UInt64 = 1) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[i] = UInt8(truncatingIfNeeded: state)
    }
    return Data(bytes)
}

extension Filesystem {
    /// Looks up a slash-separated path from the root.
    func walk(_ path: String) async throws -> NodeAttributes {
        var ino = InodeNumber.root
        var attributes = try await attributes(of: ino)
        for name in path.split(separator: "/") {
            attributes = try await lookUp(String(name), in: ino)
            ino = attributes.inode
        }
        return attributes
    }

    /// Every name of a directory, via opendir/readdir.
    func names(_ path: String) async throws -> [String] {
        let ino = path.isEmpty ? InodeNumber.root : try await walk(path).inode
        let handle = try openDirectory(ino)
        defer { releaseDirectory(handle) }
        var out: [String] = []
        var offset: UInt64 = 0
        while true {
            let entries = try await readDirectory(handle, from: offset, limit: 7)
            if entries.isEmpty { break }
            out += entries.map(\.name)
            offset = entries.last!.nextOffset
        }
        return out.filter { $0 != "." && $0 != ".." }
    }

    /// A read-only handle on the file at `path`.
    func openForReading(_ path: String) async throws -> FileHandleID {
        try await open(try await walk(path).inode, writable: false).handle
    }

    /// Reads a whole file through open/read/release in `chunk`-sized reads.
    func contents(_ path: String, chunk: Int = 128 << 10) async throws -> Data {
        let handle = try await openForReading(path)
        var out = Data()
        while true {
            let data = try await read(handle, offset: UInt64(out.count), count: chunk)
            if data.isEmpty { break }
            out.append(data)
        }
        try await release(handle)
        return out
    }
}
