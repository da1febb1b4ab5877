import Synchronization

/// Files with local content, by path: what read-your-writes, listings and `bucketfs sync` consult.
final class PendingFiles: Sendable {
    // Guards the map; never held across a suspension.
    private let files = Mutex<[String: WritableFile]>([:])

    func file(at path: String) -> WritableFile? { files.withLock { $0[path] } }

    func insert(_ file: WritableFile, at path: String) { files.withLock { $0[path] = file } }

    /// Removes `path` if it still maps to `file`.
    func remove(_ file: WritableFile, at path: String) {
        files.withLock { map in
            if map[path] === file { map[path] = nil }
        }
    }

    /// Inserts `file` unless `path` has one; returns the one already there.
    func insertIfAbsent(_ file: WritableFile, at path: String) -> WritableFile? {
        files.withLock { map in
            if let existing = map[path] { return existing }
            map[path] = file
            return nil
        }
    }

    /// Moves `file` from wherever it is to `path`.
    func rename(_ file: WritableFile, to path: String) {
        files.withLock { map in
            if let old = map.first(where: { $0.value === file })?.key { map[old] = nil }
            map[path] = file
        }
    }

    /// Moves the entry at `from` to `to`.
    func move(from: String, to: String) {
        files.withLock { map in
            if let file = map.removeValue(forKey: from) { map[to] = file }
        }
    }

    /// Names of pending files directly in the directory at `path`.
    func children(of path: String) -> [String] {
        let prefix = path.isEmpty ? "" : path + "/"
        return files.withLock { map in
            map.keys.compactMap { key in
                guard key.hasPrefix(prefix) else { return nil }
                let rest = key.dropFirst(prefix.count)
                return rest.contains("/") ? nil : String(rest)
            }
        }
    }

    /// Whether any pending file lies below the directory at `path`.
    func hasDescendant(of path: String) -> Bool {
        let prefix = path.isEmpty ? "" : path + "/"
        return files.withLock { $0.keys.contains { $0.hasPrefix(prefix) } }
    }

    var all: [WritableFile] { files.withLock { Array($0.values) } }
}
