import ArgumentParser
import Foundation

/// The `bucketfs` command and its subcommands; `mount` is the default, so `bucketfs BUCKET MOUNTPOINT` mounts.
struct Bucketfs: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "bucketfs",
        abstract: "Mount an S3-compatible bucket as a directory through FUSE.",
        version: version,
        subcommands: [MountCommand.self, SyncCommand.self],
        defaultSubcommand: MountCommand.self)
}

// The read path allocates 8 MiB GET buffers and frees them as cached blocks age out. glibc would mmap and munmap
// each one, so every GET paid ~2,000 fresh page faults; from the heap, freed buffers are reused. Two arenas keep
// the heap from splintering across the curl, FUSE and Swift pool threads. (1 GiB cold read: half the faults,
// 17% less daemon CPU.)
// <malloc.h> is not part of Swift's Glibc module: mallopt(3) is declared here, with its constants' glibc values.
@_silgen_name("mallopt") func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
let mallocTrimThreshold: Int32 = -1, mallocMmapThreshold: Int32 = -3, mallocArenaMax: Int32 = -8
_ = glibcMallopt(mallocMmapThreshold, 16 << 20)
_ = glibcMallopt(mallocTrimThreshold, 128 << 20)
_ = glibcMallopt(mallocArenaMax, 2)

// Errors end as one line on stderr and a non-zero exit: 64 for a bad command line, 1 for a failed mount.
do {
    var command = try Bucketfs.parseAsRoot()
    if let mount = command as? MountCommand {
        try await mount.execute()
    } else {
        try command.run()
    }
    exit(0)
} catch let failure as MountFailure {
    FileHandle.standardError.write(Data("bucketfs: \(failure.description)\n".utf8))
    exit(1)
} catch {
    let code = Bucketfs.exitCode(for: error)
    let message = Bucketfs.message(for: error)
    if code == .success {
        print(Bucketfs.fullMessage(for: error))
        exit(0)
    }
    let firstLine = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("bucketfs: \(firstLine.replacingOccurrences(of: "Error: ", with: ""))\n".utf8))
    exit(code.rawValue)
}
