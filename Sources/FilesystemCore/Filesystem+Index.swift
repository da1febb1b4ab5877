import Foundation
import Logging
import ObjectStorage
import Synchronization

/// Directory indexes that wait to be written: when each is due, and which have a writer task.
struct IndexWrites: Sendable {
    var due: [String: ContinuousClock.Instant] = [:]
    var running: Set<String> = []
}

extension Filesystem {
    /// Quiet time after this mount's last change in a directory before its index is rewritten.
    static let indexWriteDelay = Duration.seconds(2)

    /// The index of the directory at `path`, if it has a readable one. One GET.
    func loadIndex(_ path: String) async -> DirectoryIndex? {
        guard configuration.metadataIndex, let key = DirectoryIndex.key(for: path, mapping: configuration.mapping)
        else { return nil }
        let body: Data
        do {
            body = try await store.get(key, range: nil, ifMatch: nil).data
        } catch ObjectStoreError.notFound {
            return nil
        } catch {
            logger.debug("directory index not read", metadata: ["s3.key": "\(key)", "error": "\(error)"])
            return nil
        }
        guard let index = DirectoryIndex.decode(body, path: path) else {
            hide(key.rawValue, because: "not a directory index of this path; ignored")
            return nil
        }
        return index
    }

    /// Caches the records `index` vouches for among the listed files `unknown` of the directory at `path`; returns
    /// the others, which need a HEAD each.
    func apply(_ index: DirectoryIndex, to unknown: [ObjectSummary], in path: String) -> [ObjectSummary] {
        let mapping = configuration.mapping
        let prefix = mapping.directoryPrefix(path)
        var left: [ObjectSummary] = []
        for summary in unknown {
            let name = String(summary.key.rawValue.dropFirst(prefix.count))
            if let record = index.record(name, for: summary) {
                cache.store(.file(record), for: mapping.path(of: name, in: path))
            } else {
                left.append(summary)
            }
        }
        return left
    }

    /// Notes that this mount wrote the file at `path` (upload, metadata copy, rename): its Last-Modified, which no
    /// write response carries, is taken from the next listing of its directory, whose index is then rewritten.
    func noteWritten(_ path: String, etag: String) {
        guard configuration.metadataIndex, !configuration.readOnly else { return }
        recentWrites.withLock { $0[path] = etag }
        let parent = Self.split(path).parent
        // A directory this mount knows to be small has no index to keep.
        if let files = cache.knownFileCount(parent), files < DirectoryIndex.minimumFiles { return }
        scheduleIndexWrite(parent)
    }

    /// Deletes the index of the directory at `path` (rmdir).
    func deleteIndex(_ path: String) async {
        guard configuration.metadataIndex, !configuration.readOnly,
            let key = DirectoryIndex.key(for: path, mapping: configuration.mapping)
        else { return }
        indexWrites.withLock { _ = $0.due.removeValue(forKey: path) }
        do { try await store.delete(key) } catch {
            logger.debug("directory index not deleted", metadata: ["s3.key": "\(key)", "error": "\(error)"])
        }
    }

    /// Deletes the indexes of the directory at `path` and of every directory below it (directory rename: the
    /// moved files have new Last-Modified times, so the old entries could never match again).
    func deleteIndexes(under path: String) async {
        guard configuration.metadataIndex, !configuration.readOnly else { return }
        let prefix = DirectoryIndex.subtreePrefix(for: path, mapping: configuration.mapping)
        indexWrites.withLock { s in s.due = s.due.filter { $0.key != path && !$0.key.hasPrefix(path + "/") } }
        do {
            let page = try await store.listAll(prefix: prefix, delimiter: nil)
            for object in page.objects { try await store.delete(object.key) }
        } catch {
            logger.debug("directory indexes not deleted", metadata: ["prefix": "\(prefix)", "error": "\(error)"])
        }
    }

    /// Rewrites the index of the directory at `path` once this mount has left it alone for `indexWriteDelay`.
    func scheduleIndexWrite(_ path: String) {
        let start = indexWrites.withLock { s -> Bool in
            s.due[path] = ContinuousClock.now + Self.indexWriteDelay
            return s.running.insert(path).inserted
        }
        if start { Task { await self.indexWriteLoop(path) } }
    }

    private func indexWriteLoop(_ path: String) async {
        while true {
            let wait = indexWrites.withLock { s -> Duration? in
                guard let due = s.due[path] else {
                    s.running.remove(path)
                    return nil
                }
                let now = ContinuousClock.now
                if due > now { return due - now }
                s.due[path] = nil
                return .zero
            }
            guard let wait else { return }
            if wait > .zero {
                try? await Task.sleep(for: wait)
                continue
            }
            await writeIndex(path, listing: nil)
        }
    }

    /// Writes every index still waiting (unmount).
    public func flushIndexWrites() async {
        let paths = indexWrites.withLock { s -> [String] in
            let paths = Array(s.due.keys)
            s.due = [:]
            return paths
        }
        for path in paths { await writeIndex(path, listing: nil) }
    }

    /// Writes the index of the directory at `path` from what this mount knows of its files, as of `listing` (or a
    /// fresh one): a file's record goes in only if it matches the listing, or is this mount's own write of the
    /// listed ETag (whose Last-Modified it learns here). Nothing is written for small directories.
    func writeIndex(_ path: String, listing given: DirectoryListing?) async {
        let mapping = configuration.mapping
        guard configuration.metadataIndex, !configuration.readOnly, !indexWritesDenied.load(ordering: .relaxed),
            let key = DirectoryIndex.key(for: path, mapping: mapping)
        else { return }
        let prefix = mapping.directoryPrefix(path)
        do {
            let listing: DirectoryListing
            if let given {
                listing = given
            } else {
                let page = try await store.listAll(prefix: prefix, delimiter: "/")
                listing = DirectoryListing.build(from: page, prefix: prefix) { _, _ in }
            }
            var records: [(name: String, record: FileRecord)] = []
            var files = 0
            for entry in listing.entries {
                guard case .object(let summary) = entry.kind else { continue }
                files += 1
                let child = mapping.path(of: entry.name, in: path)
                guard var record = cache.lastFileRecord(child) else { continue }
                if record.matches(summary) {
                    records.append((entry.name, record))
                    continue
                }
                let mine = recentWrites.withLock { writes -> Bool in
                    guard writes[child] == summary.etag else { return false }
                    writes[child] = nil
                    return true
                }
                guard mine, record.etag == summary.etag, record.size == summary.size else { continue }
                record.lastModified = Int64(summary.lastModified.timeIntervalSince1970.rounded(.down))
                if case .file? = cache.entry(child) { cache.store(.file(record), for: child) }
                records.append((entry.name, record))
            }
            guard files >= DirectoryIndex.minimumFiles, !records.isEmpty else { return }
            // Removed or renamed meanwhile: an index of it would be an orphan.
            guard path.isEmpty || inodes.existingInode(for: path) != nil else { return }
            let body = try DirectoryIndex(path: path, records: records).encoded()
            _ = try await store.put(
                key, body: body, attributes: ObjectAttributes(contentType: "application/json"), ifNoneMatch: false)
            logger.debug("directory index written", metadata: ["path": "\(path)", "files": "\(records.count)"])
        } catch ObjectStoreError.accessDenied(let code, _) {
            // A bucket this mount may read but not write: indexes are an optimisation, so stop trying, once.
            if indexWritesDenied.exchange(true, ordering: .relaxed) == false {
                logger.warning("directory indexes cannot be written here; reading only", metadata: ["s3.code": "\(code)"])
            }
        } catch {
            logger.warning("directory index not written", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
