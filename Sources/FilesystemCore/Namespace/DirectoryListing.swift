import ObjectStorage

/// A complete listing of one directory, indexed by name.
public struct DirectoryListing: Sendable {
    public var entries: [ListedEntry]
    var index: [String: Int]

    init(entries: [ListedEntry]) {
        self.entries = entries
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        for (i, entry) in entries.enumerated() { index[entry.name] = i }
        self.index = index
    }

    /// Inserts or replaces the entry of the same name, keeping UTF-8 order.
    mutating func upsert(_ entry: ListedEntry) {
        if let i = index[entry.name] {
            entries[i] = entry
            return
        }
        let at = entries.partitioningIndex { !$0.name.utf8.lexicographicallyPrecedes(entry.name.utf8) }
        entries.insert(entry, at: at)
        for i in at..<entries.count { index[entries[i].name] = i }
    }

    /// Removes the entry called `name`.
    mutating func remove(_ name: String) {
        guard let at = index.removeValue(forKey: name) else { return }
        entries.remove(at: at)
        for i in at..<entries.count { index[entries[i].name] = i }
    }

    /// The entry called `name`, if listed.
    public func entry(named name: String) -> ListedEntry? { index[name].map { entries[$0] } }

    /// Builds the entries of the directory listed at `prefix` from a delimited listing: common prefixes become
    /// directories, objects become files; names that cannot be paths are reported to `hide`, and where a name is
    /// both an object and a prefix the directory wins.
    static func build(
        from page: ListPage, prefix: String, hide: (_ key: String, _ reason: String) -> Void
    ) -> DirectoryListing {
        var entries: [ListedEntry] = []
        entries.reserveCapacity(page.objects.count + page.commonPrefixes.count)
        var directories = Set<String>()
        for common in page.commonPrefixes {
            let name = common.dropFirst(prefix.count).dropLast()
            guard KeyMapping.isRepresentable(name) else {
                hide(common, "name cannot be a path")
                continue
            }
            directories.insert(String(name))
        }
        var objects: [ListedEntry] = []
        for object in page.objects {
            let name = object.key.rawValue.dropFirst(prefix.count)
            if name.isEmpty { continue }  // the directory's own marker
            guard KeyMapping.isRepresentable(name) else {
                hide(object.key.rawValue, "name cannot be a path")
                continue
            }
            guard !directories.contains(String(name)) else {
                hide(object.key.rawValue, "a directory of the same name wins")
                continue
            }
            objects.append(ListedEntry(name: String(name), kind: .object(object)))
        }
        entries = objects + directories.map { ListedEntry(name: $0, kind: .directory) }
        entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return DirectoryListing(entries: entries)
    }
}
