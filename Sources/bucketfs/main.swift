import ArgumentParser
import Foundation

/// The `bucketfs` command and its subcommands; `mount` is the default, so `bucketfs BUCKET MOUNTPOINT` mounts.
struct Bucketfs: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "bucketfs",
        abstract: "Mount an S3-compatible bucket as a directory through FUSE.",
        version: version,
        subcommands: [MountCommand.self],
        defaultSubcommand: MountCommand.self)
}

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
