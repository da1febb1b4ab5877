import ObjectStorage
import Synchronization

/// Files unlinked while a handle still held them, as on a local disk: the name is gone from this mount at once, the
/// data stays readable (and writable) through the open handles, and the object's DeleteObject waits for the last close.
///
/// Owns which inodes are unlinked-but-open, the record fstat(2) on them still sees, and which object version each one
/// must delete at its last close. Never knows handles, the kernel or the store: the filesystem asks it what to do and
/// does it after unlocking.
final class UnlinkedFiles: Sendable {
    /// The object an unlinked file leaves in the bucket until its last handle closes.
    struct DeleteTarget: Hashable, Sendable {
        var key: ObjectKey
        /// The version that was unlinked: another version at the key (written by another client) is neither hidden nor
        /// deleted.
        var etag: String
    }

    struct Entry {
        /// What fstat(2) shows for a file without local content (the record at unlink, changed by fchmod and the like).
        var record: FileRecord
        /// The pending file an unlinked file with local content still reads and writes through.
        var writable: WritableFile?
        /// Nil when nothing of the file is in the bucket, or once this mount wrote a new object at the key (which
        /// replaces the old one, so the old one must not be deleted after it).
        var target: DeleteTarget?
    }

    // Guards the entries; never held across a suspension.
    // Invariant: an entry exists only for an inode that had an open handle when its name was unlinked.
    private let entries = Mutex<[InodeNumber: Entry]>([:])

    /// Records that `ino` was unlinked with handles open.
    func unlinked(_ ino: InodeNumber, record: FileRecord, writable: WritableFile?, target: DeleteTarget?) {
        entries.withLock { $0[ino] = Entry(record: record, writable: writable, target: target) }
    }

    /// Forgets `ino` after its last handle closed; returns the object to delete now, if any.
    func lastHandleClosed(_ ino: InodeNumber) -> DeleteTarget? {
        entries.withLock { $0.removeValue(forKey: ino)?.target }
    }

    /// Whether `ino` is unlinked-but-open.
    func contains(_ ino: InodeNumber) -> Bool { entries.withLock { $0[ino] != nil } }

    /// This mount is about to write a new object at `key` (upload, copy, symlink): no deferred delete may remove it.
    func keyReused(_ key: ObjectKey) {
        entries.withLock { map in
            for (ino, entry) in map where entry.target?.key == key { map[ino]!.target = nil }
        }
    }

    /// Whether the object version `key`/`etag`, though still in the bucket, was unlinked through this mount.
    func hides(_ key: ObjectKey, etag: String) -> Bool {
        let target = DeleteTarget(key: key, etag: etag)
        return entries.withLock { map in map.values.contains { $0.target == target } }
    }

    /// Whether any unlinked version waits for its delete (listings filter only then).
    var hidesAnything: Bool { entries.withLock { map in map.values.contains { $0.target != nil } } }

    /// The current record of the unlinked file `ino`: its pending file's, else the one kept at unlink.
    func record(_ ino: InodeNumber) -> FileRecord? {
        let entry = entries.withLock { $0[ino] }
        guard let entry else { return nil }
        return entry.writable?.record() ?? entry.record
    }

    /// The pending file of the unlinked file `ino`, if it has local content.
    func writable(_ ino: InodeNumber) -> WritableFile? { entries.withLock { $0[ino]?.writable } }

    /// Changes the kept record of `ino` (fchmod, futimens on a file without local content).
    func updateRecord(_ ino: InodeNumber, _ change: (inout FileRecord) -> Void) {
        entries.withLock { map in
            guard var entry = map[ino] else { return }
            change(&entry.record)
            map[ino] = entry
        }
    }

    /// Empties the set and returns every delete still waiting (unmount: the kernel sends no more releases).
    func drain() -> [DeleteTarget] {
        entries.withLock { map in
            defer { map = [:] }
            return map.values.compactMap(\.target)
        }
    }
}
