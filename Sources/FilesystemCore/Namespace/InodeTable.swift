import Synchronization

/// The kernel's view of the namespace: which inode numbers it holds, for which paths, and how many lookups each has.
///
/// FUSE rule: every successful lookup-like reply (lookup, create, mkdir, symlink, readdirplus entry) adds one to an
/// inode's lookup count, and `forget` subtracts; the node may be dropped only at zero and with no open handle.
public final class InodeTable: Sendable {
    struct Node {
        var path: String
        var kind: NodeKind
        var lookups: UInt64
        var openHandles: Int
        /// False once the path was unlinked, replaced or renamed away: the node lives on for its handles only.
        var attached: Bool
    }

    struct State {
        var nodes: [InodeNumber: Node] = [.root: Node(path: "", kind: .directory, lookups: 1, openHandles: 0, attached: true)]
        var byPath: [String: InodeNumber] = ["": .root]
        var next: UInt64 = 2

        mutating func dropIfUnused(_ ino: InodeNumber) {
            guard ino != .root, let node = nodes[ino], node.lookups == 0, node.openHandles == 0 else { return }
            nodes[ino] = nil
            if node.attached, byPath[node.path] == ino { byPath[node.path] = nil }
        }
    }

    // Invariant: byPath[p] == i implies nodes[i].path == p and nodes[i].attached.
    private let state = Mutex(State())

    public init() {}

    /// The path and kind of `ino`.
    /// - Throws: `NamespaceError.unknownInode` for a number the kernel should not hold.
    public func node(_ ino: InodeNumber) throws(NamespaceError) -> (path: String, kind: NodeKind) {
        let found = state.withLock { s in s.nodes[ino].map { ($0.path, $0.kind) } }
        guard let found else { throw .unknownInode(ino) }
        return found
    }

    /// Whether `ino` still names a path (it was not unlinked or renamed away).
    public func isAttached(_ ino: InodeNumber) -> Bool { state.withLock { $0.nodes[ino]?.attached ?? false } }

    /// The inode number of `path` if the kernel holds one, without counting a lookup.
    public func existingInode(for path: String) -> InodeNumber? { state.withLock { $0.byPath[path] } }

    /// Counts one lookup of `path` as `kind`, creating the node if needed, and returns its number. A path whose
    /// kind changed (a file replaced by a directory) gets a new number; the old node lives on until forgotten.
    public func lookedUp(_ path: String, kind: NodeKind) -> InodeNumber {
        state.withLock { s in
            if let ino = s.byPath[path], s.nodes[ino]!.kind == kind {
                if ino != .root { s.nodes[ino]!.lookups += 1 }
                return ino
            }
            if let old = s.byPath[path] {
                s.nodes[old]!.attached = false
                s.dropIfUnused(old)
            }
            let ino = InodeNumber(s.next)
            s.next += 1
            s.nodes[ino] = Node(path: path, kind: kind, lookups: 1, openHandles: 0, attached: true)
            s.byPath[path] = ino
            return ino
        }
    }

    /// A number for `path` to show in a plain directory entry, without counting a lookup.
    public func numberForListing(_ path: String) -> InodeNumber {
        state.withLock { s in
            if let ino = s.byPath[path] { return ino }
            // Not kept: a later lookup gives the node its own number (documented: d_ino is a hint).
            defer { s.next += 1 }
            return InodeNumber(s.next)
        }
    }

    /// Subtracts `count` lookups (FUSE forget / batch forget).
    public func forget(_ ino: InodeNumber, count: UInt64) {
        guard ino != .root else { return }
        state.withLock { s in
            guard let node = s.nodes[ino] else { return }
            s.nodes[ino]!.lookups = node.lookups >= count ? node.lookups - count : 0
            s.dropIfUnused(ino)
        }
    }

    /// The lookup count of `ino` (0 if unknown), for tests.
    public func lookupCount(_ ino: InodeNumber) -> UInt64 { state.withLock { $0.nodes[ino]?.lookups ?? 0 } }

    /// How many nodes the table holds, for tests and status.
    public var count: Int { state.withLock { $0.nodes.count } }

    /// Notes a handle opened on `ino`, so the node outlives its lookups while open.
    public func handleOpened(_ ino: InodeNumber) {
        state.withLock { s in s.nodes[ino]?.openHandles += 1 }
    }

    /// Notes a handle on `ino` closed.
    public func handleClosed(_ ino: InodeNumber) {
        state.withLock { s in
            guard s.nodes[ino] != nil else { return }
            s.nodes[ino]!.openHandles -= 1
            s.dropIfUnused(ino)
        }
    }

    /// Detaches the node at `path` (unlink, rmdir): it keeps its number for the kernel but no longer names the path.
    public func detach(_ path: String) {
        state.withLock { s in
            guard let ino = s.byPath.removeValue(forKey: path) else { return }
            s.nodes[ino]!.attached = false
            s.dropIfUnused(ino)
        }
    }

    /// Moves `from` (and, for a directory, every node below it) to `to`, detaching whatever `to` named.
    public func move(_ from: String, to: String) {
        state.withLock { s in
            if let old = s.byPath.removeValue(forKey: to) {
                s.nodes[old]!.attached = false
                s.dropIfUnused(old)
            }
            let below = from + "/"
            let moved = s.byPath.filter { $0.key == from || $0.key.hasPrefix(below) }
            for (path, ino) in moved {
                let newPath = to + path.dropFirst(from.count)
                s.byPath[path] = nil
                if let displaced = s.byPath[newPath], displaced != ino {
                    s.nodes[displaced]!.attached = false
                    s.dropIfUnused(displaced)
                }
                s.byPath[newPath] = ino
                s.nodes[ino]!.path = newPath
            }
        }
    }
}
