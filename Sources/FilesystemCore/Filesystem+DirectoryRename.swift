import Foundation
import Logging
import ObjectStorage
import Synchronization

/// What a directory rename is about to do, written to the bucket before the first key moves, so that a rename cut
/// short by a crash is finished by the next mount. Moving one key is a copy then a delete of the source; redoing
/// either is harmless, so finishing means moving whatever is still under `from`.
struct RenameIntent: Codable, Sendable, Equatable {
    var version = 1
    /// Key prefixes, both ending in `/`.
    var from: String
    var to: String
    var started: Date
}

extension KeyMapping {
    /// The one name bucketfs keeps for itself at the mount root: `.bucketfs/renames/` holds rename intents.
    public static let reservedName = ".bucketfs"

    /// Where the rename intents of this mount's sub-tree live.
    var intentPrefix: String { prefix + Self.reservedName + "/renames/" }

    /// Whether `path` is, or lies below, the reserved name at the mount root.
    public static func isReserved(_ path: String) -> Bool {
        path == reservedName || path.hasPrefix(reservedName + "/")
    }
}

extension Filesystem {
    /// Keys moved at once by a directory rename.
    static let renameConcurrency = 32

    /// rename(2) of a directory: records the intent in the bucket, moves every key below it server-side (copy,
    /// then delete, many at once), re-keys this mount's pending files below it, then drops the intent.
    /// - Throws: `.notEmpty` onto a non-empty directory, `.notADirectory` onto a file, `.invalidArgument` into its own
    ///   sub-tree.
    func renameDirectory(from: String, to: String, target: NamespaceCache.Entry) async throws {
        if to.hasPrefix(from + "/") { throw NamespaceError.invalidArgument(detail: "rename of \(from) into itself") }
        switch target {
        case .file: throw NamespaceError.notADirectory(path: to)
        case .directory: if try await hasChildren(to) { throw NamespaceError.notEmpty(path: to) }
        case .absent: break
        }
        let mapping = configuration.mapping
        let fromPrefix = mapping.directoryPrefix(from)
        let toPrefix = mapping.directoryPrefix(to)
        guard ObjectKey(String(toPrefix.dropLast())) != nil else { throw NamespaceError.nameTooLong(path: to) }
        let intent = RenameIntent(from: fromPrefix, to: toPrefix, started: Date())
        let intentKey = try await recordIntent(intent)

        // Pending files below move with the directory: no upload starts while their keys change.
        let held = holdPending(under: from)
        for file in held {
            abandonStream(of: file)
            while file.state.withLock({ $0.uploading }) { try? await Task.sleep(for: .milliseconds(10)) }
        }
        let moved: [ObjectVersion: ObjectVersion]
        do {
            moved = try await moveTree(intent)
        } catch {
            release(held)
            logger.error(
                "directory rename failed part way; the next mount finishes it",
                metadata: ["from": "\(fromPrefix)", "to": "\(toPrefix)", "error": "\(error)"])
            throw error
        }
        rekey(held, from: from, to: to, moved: moved)
        await deleteIndexes(under: from)
        try await store.delete(intentKey)
        relocateOpenHandles(moved)
        directoryMetadata.withLock { meta in
            for (path, posix) in meta where path == from || path.hasPrefix(from + "/") {
                meta[path] = nil
                meta[to + path.dropFirst(from.count)] = posix
            }
        }
    }

    /// Whether anything lies below the directory at `path`: a pending file here, or a key in the bucket.
    func hasChildren(_ path: String) async throws -> Bool {
        if pending.hasDescendant(of: path) { return true }
        let prefix = configuration.mapping.directoryPrefix(path)
        let page = try await store.list(prefix: prefix, delimiter: "/", continuationToken: nil, maxKeys: 2)
        return page.objects.contains { $0.key.rawValue != prefix } || !page.commonPrefixes.isEmpty
    }

    private func recordIntent(_ intent: RenameIntent) async throws -> ObjectKey {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        guard let key = ObjectKey(configuration.mapping.intentPrefix + UUID().uuidString.lowercased()) else {
            throw NamespaceError.nameTooLong(path: intent.from)
        }
        _ = try await store.put(
            key, body: try encoder.encode(intent), attributes: ObjectAttributes(contentType: "application/json"),
            ifNoneMatch: false)
        return key
    }

    /// Moves every key under `intent.from` to the same name under `intent.to`: copy (with If-Match on the listed
    /// ETag), then delete. Page by page, `renameConcurrency` keys at once; progress logged on large trees.
    /// Returns where each object version moved.
    @discardableResult
    func moveTree(_ intent: RenameIntent) async throws -> [ObjectVersion: ObjectVersion] {
        var moved: [ObjectVersion: ObjectVersion] = [:]
        var token: String?
        var lastReport = ContinuousClock.now
        repeat {
            let page = try await store.list(prefix: intent.from, delimiter: nil, continuationToken: token, maxKeys: 1000)
            token = page.continuationToken
            let results = try await concurrentMap(page.objects) { try await self.moveKey($0, intent: intent) }
            for case let (old, new)? in results { moved[old] = new }
            if ContinuousClock.now - lastReport > .seconds(5) {
                lastReport = ContinuousClock.now
                logger.info(
                    "directory rename progress", metadata: ["from": "\(intent.from)", "to": "\(intent.to)", "keys": "\(moved.count)"])
            }
        } while token != nil
        try await sweepSource(intent)
        if moved.count >= 1000 {
            logger.info("directory renamed", metadata: ["from": "\(intent.from)", "to": "\(intent.to)", "keys": "\(moved.count)"])
        }
        return moved
    }

    /// Moves one key of a directory rename; a source changed since it was listed is copied as it is now. A
    /// directory marker is left to `sweepSource` (nil).
    private func moveKey(_ object: ObjectSummary, intent: RenameIntent) async throws -> (ObjectVersion, ObjectVersion)? {
        let name = object.key.rawValue.dropFirst(intent.from.count)
        guard let destination = ObjectKey(intent.to + name) else {
            throw NamespaceError.nameTooLong(path: intent.to + name)
        }
        if object.key.rawValue.hasSuffix("/") { return nil }
        var source = FileRecord(
            info: ObjectInfo(
                key: object.key, size: object.size, etag: object.etag, lastModified: object.lastModified,
                metadata: [:], contentType: nil))
        if source.size > UploadPlan.maximumPartSize {
            // A multipart copy does not carry metadata over by itself.
            source = FileRecord(info: try await store.head(object.key))
        }
        let etag: String
        do {
            etag = try await copyObject(source, to: destination, attributes: nil)
        } catch ObjectStoreError.preconditionFailed {
            source = FileRecord(info: try await store.head(object.key))
            etag = try await copyObject(source, to: destination, attributes: nil)
        }
        try await store.delete(object.key)
        return (
            ObjectVersion(key: source.key, etag: source.etag, size: source.size),
            ObjectVersion(key: destination, etag: etag, size: source.size)
        )
    }

    /// The directories of a directory rename, once its objects moved: each gets a marker under the new name (with
    /// the old marker's metadata where there was one), then the old ones go, deepest first. On AWS that is the
    /// markers; SeaweedFS also keeps emptied directories, and lists markers only with a delimiter, so the source is
    /// walked level by level. The renamed directory itself always gets a marker, so an empty one survives.
    private func sweepSource(_ intent: RenameIntent) async throws {
        var directories = [intent.from]
        var pending = [intent.from]
        while let prefix = pending.popLast() {
            let page = try await store.listAll(prefix: prefix, delimiter: "/")
            if page.objects.contains(where: { $0.key.rawValue != prefix }) {
                logger.warning(
                    "objects appeared in a directory while it was renamed; they stay at the old name",
                    metadata: ["prefix": "\(prefix)"])
            }
            directories += page.commonPrefixes
            pending += page.commonPrefixes
        }
        _ = try await concurrentMap(directories) { prefix in
            guard let source = ObjectKey(prefix), let destination = ObjectKey(intent.to + prefix.dropFirst(intent.from.count))
            else { return }
            var attributes = ObjectAttributes(contentType: "application/x-directory")
            if let info = try? await self.store.head(source) { attributes.metadata = info.metadata }
            _ = try await self.store.put(destination, body: Data(), attributes: attributes, ifNoneMatch: false)
        }
        // Deepest first: a directory is never removed before what is below it.
        let byDepth = Dictionary(grouping: directories) { $0.utf8.count(where: { $0 == UInt8(ascii: "/") }) }
        for depth in byDepth.keys.sorted(by: >) {
            _ = try await concurrentMap(byDepth[depth]!) { prefix in
                if let key = ObjectKey(prefix) { try await self.store.delete(key) }
            }
        }
    }

    /// `transform` of every element, `renameConcurrency` at a time; the results in completion order.
    private func concurrentMap<Item: Sendable, Result: Sendable>(
        _ items: [Item], _ transform: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: Result.self) { group in
            var results: [Result] = []
            results.reserveCapacity(items.count)
            var next = items.startIndex
            func startNext() {
                guard next < items.endIndex else { return }
                let item = items[next]
                next += 1
                group.addTask { try await transform(item) }
            }
            for _ in 0..<min(Self.renameConcurrency, items.count) { startNext() }
            while let result = try await group.next() {
                results.append(result)
                startNext()
            }
            return results
        }
    }

    /// Stops uploads and streams of the pending files below `path` from starting; returns them.
    private func holdPending(under path: String) -> [WritableFile] {
        let below = path + "/"
        return pending.all.filter { file in
            file.state.withLock { s in
                guard s.path.hasPrefix(below) else { return false }
                s.held = true
                return true
            }
        }
    }

    private func release(_ files: [WritableFile]) {
        for file in files {
            let dirty = file.state.withLock { s -> Bool in
                s.held = false
                return !s.isClean && !s.deleted
            }
            if dirty { scheduleUpload(file, after: configuration.uploadDelay) }
        }
    }

    /// Gives the held pending files their paths and keys below the new name; a base object that moved is read from
    /// its new key.
    private func rekey(_ files: [WritableFile], from: String, to: String, moved: [ObjectVersion: ObjectVersion]) {
        for file in files {
            let change = file.state.withLock { s -> (old: String, new: String)? in
                let newPath = to + s.path.dropFirst(from.count)
                guard let key = try? configuration.mapping.fileKey(newPath) else { return nil }
                if let base = s.base {
                    if let new = moved[base] {
                        s.base = new
                    } else {
                        // The base was not in the bucket any more; what the spool holds is all there is.
                        s.base = nil
                        s.baseLimit = 0
                    }
                }
                let old = s.path
                s.path = newPath
                s.key = key
                return (old, newPath)
            }
            if let change { pending.move(from: change.old, to: change.new) }
            try? file.saveJournal()
        }
        release(files)
    }

    /// Read handles opened on an object version that moved read it from its new key from now on.
    func relocateOpenHandles(_ moved: [ObjectVersion: ObjectVersion]) {
        guard !moved.isEmpty else { return }
        let open = Set(handles.openFiles.map(\.version))
        relocations.withLock { map in
            // Only versions some handle still reads are kept; a version moved twice points at its latest place.
            map = map.filter { open.contains($0.key) }.mapValues { moved[$0] ?? $0 }
            for version in open {
                if let new = moved[version] { map[version] = new }
            }
        }
    }

    /// Finishes the directory renames that a previous daemon recorded but did not finish. Called once at mount,
    /// before spooled uploads are recovered; returns the (from, to) prefixes finished, for spool recovery.
    @discardableResult
    public func finishInterruptedRenames() async -> [(from: String, to: String)] {
        guard !configuration.readOnly else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let page: ListPage
        do {
            page = try await store.listAll(prefix: configuration.mapping.intentPrefix, delimiter: nil)
        } catch {
            logger.warning("could not look for interrupted directory renames", metadata: ["error": "\(error)"])
            return []
        }
        var finished: [(from: String, to: String)] = []
        let mine = configuration.mapping.prefix
        for object in page.objects.sorted(by: { $0.lastModified < $1.lastModified }) {
            do {
                let body = try await store.get(object.key, range: nil, ifMatch: nil).data
                guard let intent = try? decoder.decode(RenameIntent.self, from: body), intent.from.hasPrefix(mine),
                    intent.to.hasPrefix(mine), intent.from.hasSuffix("/"), intent.to.hasSuffix("/"),
                    !intent.to.hasPrefix(intent.from)
                else {
                    logger.warning("ignoring an unreadable rename intent", metadata: ["s3.key": "\(object.key)"])
                    continue
                }
                logger.info("finishing an interrupted directory rename", metadata: ["from": "\(intent.from)", "to": "\(intent.to)"])
                let moved = try await moveTree(intent)
                try await store.delete(object.key)
                logger.info(
                    "interrupted directory rename finished",
                    metadata: ["from": "\(intent.from)", "to": "\(intent.to)", "keys": "\(moved.count)"])
                finished.append((intent.from, intent.to))
            } catch {
                logger.error(
                    "could not finish an interrupted directory rename; the next mount tries again",
                    metadata: ["s3.key": "\(object.key)", "error": "\(error)"])
            }
        }
        return finished
    }
}
