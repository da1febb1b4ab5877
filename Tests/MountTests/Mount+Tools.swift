import Foundation
import Testing

/// Ordinary tools pointed at the mount. Every call is a child process with a timeout, so a hung mount fails the
/// test instead of hanging the test runner; none of them touches the mount from inside the test process.
extension Mount {
    /// The SHA-256 of `cat MNT/relative`.
    func sha256ThroughCat(_ relative: String, timeout: Duration = .seconds(300)) async throws -> String {
        let result = try await Command.run(
            ["bash", "-c", "set -o pipefail; cat -- \"$1\" | sha256sum", "bash", path(relative)],
            timeout: timeout)
        try check(result)
        return String(result.output.prefix(64))
    }

    /// Every path under the mount, relative to it, as `find MNT -printf '%P\n'` prints them.
    func findPaths(_ relative: String = "") async throws -> [String] {
        let result = try await Command.run(["find", path(relative), "-printf", "%P\\n"], timeout: .seconds(120))
        try check(result)
        return result.output.split(separator: "\n").map(String.init)
    }

    /// The names in one folder of the mount, as `ls -1A` prints them.
    func names(in relative: String = "") async throws -> [String] {
        let result = try await Command.run(["ls", "-1A", path(relative)], timeout: .seconds(60))
        try check(result)
        return result.output.split(separator: "\n").map(String.init)
    }

    /// `stat -c %s` of a file in the mount, or nil when stat fails (the file does not exist).
    func size(of relative: String) async throws -> Int? {
        let result = try await Command.run(["stat", "-c", "%s", path(relative)], timeout: .seconds(60))
        guard !result.timedOut else { throw ToolError.failed(result.summary + "\n" + logTail) }
        return result.succeeded ? Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    /// `cat MNT/relative`, or nil when cat fails.
    func contents(of relative: String) async throws -> Data? {
        let result = try await Command.run(["cat", "--", path(relative)], timeout: .seconds(120))
        guard !result.timedOut else { throw ToolError.failed(result.summary + "\n" + logTail) }
        return result.succeeded ? result.stdout : nil
    }

    /// Throws, with the daemon log tail, unless `result` exited 0 by itself.
    func check(_ result: CommandResult) throws {
        guard result.succeeded else { throw ToolError.failed(result.summary + "\ndaemon log:\n" + logTail) }
    }
}

/// A tool run against the mount failed where the test needed it to succeed.
enum ToolError: Error, CustomStringConvertible {
    case failed(String)

    var description: String {
        switch self {
        case .failed(let summary): summary
        }
    }
}

/// Local files and facts to compare the mount with.
enum Reference {
    /// Writes `size` deterministic pseudo-random bytes (Python's `random.Random(seed)`) to `url`.
    static func writeRandomFile(size: Int, seed: Int, to url: URL) async throws {
        let program = """
            import random, sys
            r, n = random.Random(int(sys.argv[1])), int(sys.argv[2])
            with open(sys.argv[3], "wb") as f:
                for i in range(0, n, 1 << 24):
                    f.write(r.randbytes(min(1 << 24, n - i)))
            """
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try await Command.python(program, ["\(seed)", "\(size)", url.path], timeout: .seconds(300))
        guard result.succeeded else { throw ToolError.failed(result.summary) }
    }

    /// Writes `data` to `url`, creating its folder.
    static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// `sha256sum` of a local file.
    static func sha256(of url: URL) async throws -> String {
        let result = try await Command.run(["sha256sum", url.path], timeout: .seconds(300))
        guard result.succeeded else { throw ToolError.failed(result.summary) }
        return String(result.output.prefix(64))
    }
}

/// Compares path lists byte for byte: Swift's `String ==` treats NFC and NFD spellings as equal, a filesystem does not.
func byteSet(_ paths: [String]) -> Set<[UInt8]> { Set(paths.map { Array($0.utf8) }) }

/// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    } while ContinuousClock.now < deadline
    return try await condition()
}
