import ObjectStorage
import Synchronization

extension Filesystem {
    /// FUSE lookup: the attributes of `name` in `parent`, counting one kernel lookup on success.
    /// - Throws: `NamespaceError.noEntry`, `.notADirectory`, `.nameTooLong` (a name over 255 bytes, or a key over
    ///   1,024); store errors.
    public func lookUp(_ name: String, in parent: InodeNumber) async throws -> NodeAttributes {
        let (parentPath, parentKind) = try inodes.node(parent)
        guard parentKind == .directory else { throw NamespaceError.notADirectory(path: parentPath) }
        guard name.utf8.count <= KeyMapping.maximumNameLength else { throw NamespaceError.nameTooLong(path: name) }
        let path = configuration.mapping.path(of: name, in: parentPath)
        let entry = try await resolve(path)
        let kind: NodeKind
        switch entry {
        case .absent: throw NamespaceError.noEntry(path: path)
        case .directory: kind = .directory
        case .file(let record): kind = record.kind
        }
        let ino = inodes.lookedUp(path, kind: kind)
        return try attributes(ino, entry, path: path)
    }

    /// FUSE getattr.
    public func attributes(of ino: InodeNumber) async throws -> NodeAttributes {
        let (path, _) = try inodes.node(ino)
        if ino == .root { return directoryAttributes(ino) }
        if let attributes = unlinkedAttributes(ino) { return attributes }  // fstat(2) on a handle open at unlink
        if !inodes.isAttached(ino), let record = cache.lastFileRecord(path) {
            return fileAttributes(ino, record)  // unlinked but still open: its last known attributes
        }
        return try attributes(ino, try await resolve(path), path: path)
    }

    /// What `path` is now: from the entry cache, from a fresh listing of its parent, or from the store. A version
    /// unlinked here while open is absent, though the bucket keeps it until the last close.
    func resolve(_ path: String) async throws -> NamespaceCache.Entry {
        let entry = try await resolveUnfiltered(path)
        if case .file(let record) = entry, unlinked.hides(record.key, etag: record.etag) { return .absent }
        return entry
    }

    private func resolveUnfiltered(_ path: String) async throws -> NamespaceCache.Entry {
        if path.isEmpty { return .directory }
        if KeyMapping.isReserved(path) { return .absent }
        // No object can have a key over 1,024 bytes: ENAMETOOLONG before any request (lookup, and through it every
        // creating call, whose target the kernel looks up first).
        _ = try configuration.mapping.fileKey(path)
        // Read-your-writes: a file written here is what this mount shows, uploaded or not.
        if let file = pending.file(at: path) { return .file(file.record()) }
        if let entry = cache.entry(path) { return entry }
        let (parent, name) = Self.split(path)
        var listing = cache.listing(parent)
        if listing == nil, !bigDirectories.withLock({ $0.contains(parent) }) {
            // A lookup in a directory whose listing is not cached lists it, if it fits in one page: one LIST answers
            // every other name in it (rsync, tar and cp stat each destination path without reading the directory),
            // and its index their attributes. A bigger directory is probed name by name from then on.
            let prefix = configuration.mapping.directoryPrefix(parent)
            let page = try await store.list(prefix: prefix, delimiter: "/", continuationToken: nil, maxKeys: 1000)
            if page.continuationToken == nil {
                listing = try await listDirectory(parent, firstPage: page, prefetch: false)
            } else {
                bigDirectories.withLock { big in
                    if big.count > 10_000 { big.removeAll() }
                    big.insert(parent)
                }
            }
        }
        if let listing {
            // A fresh listing of the parent answers existence and kind; only a file's metadata may need a HEAD.
            switch listing.entry(named: name)?.kind {
            case nil:
                cache.store(.absent, for: path)
                return .absent
            case .directory:
                cache.store(.directory, for: path)
                return .directory
            case .object:
                if let record = try await fileRecord(path) { return .file(record) }
                return try await probe(path)
            }
        }
        return try await probe(path)
    }

    /// Asks the store what `path` is: a HEAD of the file key and a one-key listing of the directory prefix at once.
    /// A name that is both a file and a directory prefix is a directory.
    func probe(_ path: String) async throws -> NamespaceCache.Entry {
        let mapping = configuration.mapping
        let prefix = mapping.directoryPrefix(path)
        async let record = fileRecord(path)
        async let children = store.list(prefix: prefix, delimiter: "/", continuationToken: nil, maxKeys: 1)
        let page = try await children
        let found = try await record
        let entry: NamespaceCache.Entry
        if !page.objects.isEmpty || !page.commonPrefixes.isEmpty {
            if found != nil { hide(mapping.prefix + path, because: "a directory of the same name wins") }
            entry = .directory
        } else if let found {
            entry = .file(found)
        } else {
            entry = .absent
        }
        cache.store(entry, for: path)
        return entry
    }

    /// The HEAD record of the file at `path` (nil if there is none), shared with any HEAD of it under way.
    func fileRecord(_ path: String) async throws -> FileRecord? {
        let key = try configuration.mapping.fileKey(path)
        let store = self.store
        let cache = self.cache
        return try await heads.value(for: path) { [weak self] in
            // A HEAD that ended just before this flight began has already cached its answer.
            if case .file(let fresh)? = cache.entry(path) { return fresh }
            let record: FileRecord
            do {
                record = FileRecord(info: try await store.head(key))
            } catch ObjectStoreError.notFound {
                return nil
            }
            if !record.posix.malformed.isEmpty {
                self?.hide(key.rawValue + "#metadata", because: "malformed metadata ignored: \(record.posix.malformed)")
            }
            // Cached before the shared fetch ends, so no caller arriving after it repeats the HEAD.
            cache.store(.file(record), for: path)
            return record
        }
    }

    /// The complete listing of the directory at `path`, shared with a listing of it under way. Listed page by page:
    /// the attributes of each page's files that neither the cache nor the directory's index vouches for are
    /// fetched (HEAD, `attributeConcurrency` at a time) while the next page is listed; once they are all in, the
    /// index is rewritten.
    /// `firstPage` is the first page when the caller has listed it already. Without `prefetch` (a listing made for a
    /// lookup) files the index does not vouch for are HEADed only when looked up.
    func listDirectory(_ path: String, firstPage: ListPage? = nil, prefetch: Bool = true) async throws
        -> DirectoryListing
    {
        if let listing = cache.listing(path) { return listing }
        let mapping = configuration.mapping
        let prefix = mapping.directoryPrefix(path)
        let store = self.store
        return try await listings.value(for: path) { [weak self] in
            var objects: [ObjectSummary] = []
            var prefixes: [String] = []
            var token: String?
            var index: DirectoryIndex?
            var indexLooked = false
            var fetches: [Task<Void, Never>] = []
            var given = firstPage
            repeat {
                let page: ListPage
                if let first = given {
                    page = first
                    given = nil
                } else {
                    page = try await store.list(prefix: prefix, delimiter: "/", continuationToken: token, maxKeys: 1000)
                }
                objects += page.objects
                prefixes += page.commonPrefixes
                token = page.continuationToken
                guard let self else { continue }
                var unknown = cache.unconfirmed(page.objects, prefix: prefix) { mapping.path(of: $0, in: path) }
                if !indexLooked, !unknown.isEmpty, objects.count >= DirectoryIndex.minimumFiles || token != nil {
                    indexLooked = true
                    index = await loadIndex(path)
                }
                if let index { unknown = apply(index, to: unknown, in: path) }
                if prefetch, let fetch = prefetchRecords(unknown.map { String($0.key.rawValue.dropFirst(prefix.count)) }, in: path) {
                    fetches.append(fetch)
                }
            } while token != nil
            let page = ListPage(objects: objects, commonPrefixes: prefixes, continuationToken: nil)
            var listing = DirectoryListing.build(from: page, prefix: prefix) { key, reason in self?.hide(key, because: reason) }
            if path.isEmpty { listing.remove(KeyMapping.reservedName) }
            guard let self else { return listing }
            if unlinked.hidesAnything {
                // Unlinked here while open: still in the bucket until the last close, gone from this mount.
                for entry in listing.entries {
                    if case .object(let summary) = entry.kind, unlinked.hides(summary.key, etag: summary.etag) {
                        listing.remove(entry.name)
                    }
                }
            }
            // Files were confirmed page by page above; what is still unknown is being fetched, and lookups join it.
            cache.storeListing(listing, for: path) { mapping.path(of: $0, in: path) }
            if !fetches.isEmpty, !configuration.readOnly {
                Task { [weak self, listing] in
                    for fetch in fetches { await fetch.value }
                    await self?.writeIndex(path, listing: listing)
                }
            }
            return listing
        }
    }

    /// Fetches, in the background and at most `attributeConcurrency` at a time across all directories, the HEAD
    /// records of `names` in the directory at `path`, so that the stat calls that follow a readdir find them ready.
    /// Returns the task that ends when they are all in (nil when there is nothing to fetch).
    func prefetchRecords(_ names: [String], in path: String) -> Task<Void, Never>? {
        guard !names.isEmpty else { return nil }
        let mapping = configuration.mapping
        let next = WorkQueueCursor()
        let workers = min(configuration.attributeConcurrency, names.count)
        return Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { [weak self] in
                        while let self {
                            let i = next.take()
                            guard i < names.count else { return }
                            let child = mapping.path(of: names[i], in: path)
                            if cache.entry(child) != nil { continue }
                            _ = try? await attributeLimit.run { try await fileRecord(child) }
                        }
                    }
                }
            }
        }
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}


/// Hands out 0, 1, 2, ... to workers draining a shared list.
final class WorkQueueCursor: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
