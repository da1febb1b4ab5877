import Foundation
import ObjectStorage
import Synchronization

/// What bucketfs knows of one file object (or symlink) from its last HEAD.
public struct FileRecord: Sendable, Hashable {
    public var key: ObjectKey
    public var kind: NodeKind
    public var size: UInt64
    public var etag: String
    /// Last-Modified from S3, whole seconds.
    public var lastModified: Int64
    public var posix: POSIXMetadata
    public var storageClass: String?
    /// All user metadata, POSIX and other (xattrs, rclone's keys), so that a metadata update keeps what it does not
    /// change.
    public var metadata: [String: String]
    public var contentType: String?

    public init(info: ObjectInfo) {
        key = info.key
        metadata = info.metadata
        contentType = info.contentType
        posix = POSIXMetadata(metadata: info.metadata)
        kind = posix.kind == .symlink ? .symlink : .file
        size = info.size
        etag = info.etag
        lastModified = Int64(info.lastModified.timeIntervalSince1970.rounded(.down))
        storageClass = info.storageClass
    }

    /// Whether a listing entry describes the same object version (same ETag, size and Last-Modified second).
    public func matches(_ summary: ObjectSummary) -> Bool {
        summary.etag == etag && summary.size == size
            && Int64(summary.lastModified.timeIntervalSince1970.rounded(.down)) == lastModified
    }
}

/// One entry of a directory as its listing shows it.
public struct ListedEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A common prefix or a `name/` marker.
        case directory
        /// A plain object (a file, or a symlink once its metadata is known).
        case object(ObjectSummary)
    }

    public var name: String
    public var kind: Kind
}

/// The attribute, entry and listing caches, with one time-to-live (`--metadata-ttl`).
///
/// Rules: an entry is served from the cache while younger than the TTL; a file record older than that is still
/// used when a fresh listing shows the same ETag, size and Last-Modified (metadata changes only with a new write).
public final class NamespaceCache: Sendable {
    public enum Entry: Sendable, Hashable {
        case file(FileRecord)
        case directory
        case absent
    }

    struct Timed<Value> {
        var value: Value
        var at: ContinuousClock.Instant
    }

    struct State {
        var entries: [String: Timed<Entry>] = [:]
        var listings: [String: Timed<DirectoryListing>] = [:]
        var insertionsSinceSweep = 0
    }

    public let ttl: Duration
    // Guards both caches; never held across a suspension.
    private let state = Mutex(State())
    /// Past this many entries, expired ones are swept (bounded memory on huge trees).
    private let sweepThreshold: Int

    public init(ttl: Duration, sweepThreshold: Int = 200_000) {
        self.ttl = ttl
        self.sweepThreshold = sweepThreshold
    }

    private func fresh(_ at: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Bool { now - at < ttl }

    /// The entry for `path` if younger than the TTL.
    public func entry(_ path: String) -> Entry? {
        let now = ContinuousClock.now
        return state.withLock { s in s.entries[path].flatMap { fresh($0.at, now: now) ? $0.value : nil } }
    }

    /// The last file record of `path`, however old (to validate against a listing).
    public func lastFileRecord(_ path: String) -> FileRecord? {
        state.withLock { s in
            if case .file(let record) = s.entries[path]?.value { return record }
            return nil
        }
    }

    /// Records what `path` is now.
    public func store(_ entry: Entry, for path: String) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.entries[path] = Timed(value: entry, at: now)
            s.insertionsSinceSweep += 1
            if s.insertionsSinceSweep > sweepThreshold {
                s.insertionsSinceSweep = 0
                s.entries = s.entries.filter { fresh($0.value.at, now: now) }
                s.listings = s.listings.filter { fresh($0.value.at, now: now) }
            }
        }
    }

    /// Forgets `path` (and its listing), so the next look costs a request.
    public func invalidate(_ path: String) {
        state.withLock { s in
            s.entries[path] = nil
            s.listings[path] = nil
        }
    }

    /// Forgets `path` and everything cached below it (a directory rename).
    public func invalidateTree(_ path: String) {
        let below = path + "/"
        state.withLock { s in
            s.entries = s.entries.filter { $0.key != path && !$0.key.hasPrefix(below) }
            s.listings = s.listings.filter { $0.key != path && !$0.key.hasPrefix(below) }
        }
    }

    /// Forgets the listing of the directory at `path` (a child was added or removed).
    public func invalidateListing(_ path: String) {
        _ = state.withLock { $0.listings.removeValue(forKey: path) }
    }

    /// Applies this mount's own change to a cached listing of the directory at `path`, if there is one, so the
    /// change shows at once without listing again.
    func updateListing(_ path: String, _ change: (inout DirectoryListing) -> Void) {
        state.withLock { s in
            guard var timed = s.listings[path] else { return }
            change(&timed.value)
            s.listings[path] = timed
        }
    }

    /// Of the objects listed under `prefix`, those whose metadata is not known: no cached record, or one that no
    /// longer matches the listed ETag, size and Last-Modified. Records that do match are refreshed. The directory's
    /// own marker and names that cannot be paths are left out.
    func unconfirmed(_ objects: [ObjectSummary], prefix: String, childPath: (String) -> String) -> [ObjectSummary] {
        let now = ContinuousClock.now
        return state.withLock { s in
            var unknown: [ObjectSummary] = []
            for summary in objects {
                let name = summary.key.rawValue.dropFirst(prefix.count)
                guard !name.isEmpty, KeyMapping.isRepresentable(name) else { continue }
                let child = childPath(String(name))
                if case .file(let record) = s.entries[child]?.value, record.matches(summary) {
                    s.entries[child]!.at = now
                } else {
                    unknown.append(summary)
                }
            }
            return unknown
        }
    }

    /// How many files the last listing of the directory at `path` showed, however old, with this mount's changes.
    public func knownFileCount(_ path: String) -> Int? {
        state.withLock { s in
            s.listings[path].map { timed in
                timed.value.entries.count { if case .object = $0.kind { true } else { false } }
            }
        }
    }

    /// The listing of the directory at `path` if younger than the TTL.
    public func listing(_ path: String) -> DirectoryListing? {
        let now = ContinuousClock.now
        return state.withLock { s in s.listings[path].flatMap { fresh($0.at, now: now) ? $0.value : nil } }
    }

    /// Records a complete listing of the directory at `path`, and refreshes the entry of each subdirectory in it.
    /// Its files' entries are confirmed as the pages come in (`unconfirmed`).
    public func storeListing(_ listing: DirectoryListing, for path: String, childPath: (String) -> String) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.listings[path] = Timed(value: listing, at: now)
            for entry in listing.entries where entry.kind == .directory {
                s.entries[childPath(entry.name)] = Timed(value: .directory, at: now)
            }
        }
    }
}
