import Foundation
import Glibc

/// Background mode without fork(): the command re-runs itself with `--foreground` in a new session, then waits
/// until the child reports over a pipe that the mount is live (exit 0) or why it failed (one line, exit 1).
enum Daemon {
    static let readyVariable = "BUCKETFS_READY_FD"
    static let daemonVariable = "BUCKETFS_DAEMON"

    /// Whether this process is the background child of a `bucketfs` command.
    static var isBackgroundChild: Bool { ProcessInfo.processInfo.environment[daemonVariable] == "1" }

    /// In the parent: starts the child and exits with its outcome; never returns. In the child: returns at once.
    static func startInBackground(readiness timeout: Duration) throws {
        if isBackgroundChild { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw MountFailure("cannot create a pipe: \(String(cString: strerror(errno)))") }
        // Both ends above 3: were the read end fd 3 itself (a parent started with only 0-2 open), the child's
        // dup2(write end, 3) would replace it and the close of the read end that follows would close the report
        // pipe, so the parent would read EOF at once ("not ready in time").
        for i in 0..<2 {
            let moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)
            guard moved >= 0 else { throw MountFailure("cannot set up the report pipe: \(String(cString: strerror(errno)))") }
            close(fds[i])
            fds[i] = moved
        }
        let arguments = [CommandLine.arguments[0]] + CommandLine.arguments.dropFirst() + ["--foreground"]
        var environment = ProcessInfo.processInfo.environment
        environment[readyVariable] = "3"
        environment[daemonVariable] = "1"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        // Nothing else of ours leaks into the daemon: a caller reading our stdout to EOF must not wait on it.
        for fd in openDescriptors() where fd >= 4 && fd != fds[0] { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // 0x80 is glibc's POSIX_SPAWN_SETSID, which Swift does not import: the daemon leaves our session.
        posix_spawnattr_setflags(&attributes, Int16(0x80))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else { throw MountFailure("cannot start the background daemon: \(String(cString: strerror(rc)))") }
        let message = readReport(fds[0], timeout: timeout)
        close(fds[0])
        switch message {
        case "ready"?:
            exit(0)
        case let line?:
            FileHandle.standardError.write(Data("bucketfs: \(line)\n".utf8))
            exit(1)
        case nil:
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGTERM)  // our own child, by PID
                FileHandle.standardError.write(Data("bucketfs: the mount was not ready in time; gave up\n".utf8))
            } else {
                FileHandle.standardError.write(Data("bucketfs: the daemon exited before mounting (see syslog or --log-file)\n".utf8))
            }
            exit(1)
        }
    }

    /// Reads one line from the child, or nil on EOF or timeout.
    private static func readReport(_ fd: Int32, timeout: Duration) -> String? {
        var collected = [UInt8]()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ms = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&pfd, 1, ms) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            collected += buffer[0..<n]
            if let newline = collected.firstIndex(of: 10) {
                return String(decoding: collected[..<newline], as: UTF8.self)
            }
        }
        return collected.isEmpty ? nil : String(decoding: collected, as: UTF8.self)
    }

    /// In the child: tells the waiting parent the outcome ("ready" or a one-line reason). Does nothing in the
    /// foreground.
    static func report(_ line: String) {
        guard let text = ProcessInfo.processInfo.environment[readyVariable], let fd = Int32(text) else { return }
        let bytes = Array((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8)
        _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        unsetenv(readyVariable)
    }
}

/// A failure to mount, told to the user as one line.
struct MountFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The file descriptors open in this process now (from /proc/self/fd).
private func openDescriptors() -> [Int32] {
    // The listing's own descriptor is closed by now: keep only those still valid.
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        .filter { fcntl($0, F_GETFD) != -1 }
}
