import ArgumentParser
import FUSEBridge
import Foundation

/// `bucketfs sync PATH...`: returns once everything written below each path (a mountpoint, or a folder or file in a
/// bucketfs mount) is in the bucket. It is fsync(2) of the path, which bucketfs answers only after S3 acknowledged
/// every pending upload below it; nothing else talks to the daemon.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Wait until everything written below each path is in the bucket.",
        discussion: "Each PATH is a bucketfs mountpoint, or a folder or file inside one. Exits 1 if an upload failed.")

    @Argument(help: ArgumentHelp("Mountpoints, or folders or files inside a bucketfs mount.", valueName: "path"))
    var paths: [String]

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("sync needs at least one path") }
    }

    func run() throws {
        let mounts = MountTable.entries().filter { $0.fsType == "fuse.bucketfs" }.map(\.mountpoint)
        for path in paths {
            guard let resolved = realpath(path, nil) else {
                throw MountFailure("\(path): \(String(cString: strerror(errno)))")
            }
            let absolute = String(cString: resolved)
            free(resolved)
            let inside = mounts.contains { absolute == $0 || absolute.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
            guard inside else { throw MountFailure("\(path) is not inside a bucketfs mount") }
            let fd = open(absolute, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw MountFailure("\(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard fsync(fd) == 0 else {
                throw MountFailure(
                    "\(path): an upload failed (\(String(cString: strerror(errno)))); bucketfs retries it, see its log")
            }
        }
    }
}
