import Foundation

/// How one child process ended: its status, its output, and whether we had to kill it.
struct CommandResult: Sendable {
    /// The argument vector, program first.
    let arguments: [String]
    /// The exit status, or the signal number when `wasSignaled`.
    let status: Int32
    /// True when the child died of a signal (including our SIGKILL on timeout).
    let wasSignaled: Bool
    /// True when the child outlived its timeout and was killed.
    let timedOut: Bool
    let stdout: Data
    let stderr: Data
    /// Wall time from start to exit.
    let elapsed: Duration

    var output: String { String(decoding: stdout, as: UTF8.self) }
    var errors: String { String(decoding: stderr, as: UTF8.self) }

    /// Exited by itself with status 0.
    var succeeded: Bool { !timedOut && !wasSignaled && status == 0 }

    /// A one-paragraph account for failure messages.
    var summary: String {
        let end = timedOut ? "killed after timeout" : wasSignaled ? "died of signal \(status)" : "exit status \(status)"
        return "`\(arguments.joined(separator: " "))`: \(end) after \(elapsed)\n"
            + "stdout: \(output.suffix(2000))\nstderr: \(errors.suffix(2000))"
    }
}

/// Runs ordinary tools (cat, cp, find, python3, fusermount3, the daemon) as children, each under a timeout.
///
/// Output goes to temporary files rather than pipes, so a chatty child can never block on a full pipe while we wait.
enum Command {
    /// Runs `arguments` (a bare program name is looked up on PATH) and waits for it to exit.
    ///
    /// On expiry of `timeout` the child is SIGKILLed and the result says `timedOut`. If the calling task is cancelled
    /// (a test's time limit), the child is killed too and `CancellationError` is thrown.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> CommandResult {
        // posix_spawn and waitpid rather than Foundation's Process: a child that starts a daemon and exits at once
        // was seen to stay "running" as a zombie under Process, hanging the test.
        let outputs = try OutputFiles()
        defer { outputs.remove() }
        var program = arguments[0]
        var argv = arguments
        if !program.contains("/") {
            program = "/usr/bin/env"
            argv = ["env"] + arguments
        }
        if let directory {
            argv = ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", directory.path, program] + argv.dropFirst()
            program = "/bin/sh"
        }
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputs.base + ".out", O_WRONLY | O_TRUNC, 0)
        posix_spawn_file_actions_addopen(&actions, 2, outputs.base + ".err", O_WRONLY | O_TRUNC, 0)
        for fd in openDescriptors() where fd >= 3 { posix_spawn_file_actions_addclose(&actions, fd) }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: program]) }
        let deadline = clock.now + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if Task.isCancelled {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw CancellationError()
            }
            if clock.now > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                timedOut = true
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let signaled = (status & 0x7f) != 0
        let code = signaled ? status & 0x7f : (status >> 8) & 0xff
        return CommandResult(
            arguments: arguments, status: code, wasSignaled: signaled, timedOut: timedOut,
            stdout: outputs.readStdout(), stderr: outputs.readStderr(), elapsed: clock.now - start)
    }

    /// How `waitForExit` saw a child end.
    enum Exit: Sendable { case byItself, killedAfterTimeout }

    /// Polls until `process` exits; SIGKILLs it when `timeout` passes or the task is cancelled.
    static func waitForExit(of process: Process, timeout: Duration) async throws -> Exit {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if Task.isCancelled {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw CancellationError()
            }
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return .killedAfterTimeout
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()  // lets Foundation record the status
        return .byItself
    }

    /// Runs a python3 program given as text, with `arguments` as `sys.argv[1:]`.
    static func python(
        _ program: String, _ arguments: [String] = [], environment: [String: String] = [:],
        timeout: Duration = .seconds(120)
    ) async throws -> CommandResult {
        try await run(["python3", "-c", program] + arguments, environment: environment, timeout: timeout)
    }
}

/// A pair of temporary files that receive a child's stdout and stderr.
private struct OutputFiles {
    let base: String
    let stdout: FileHandle
    let stderr: FileHandle

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("bucketfs-mt-\(UUID().uuidString)").path
        for suffix in [".out", ".err"] {
            guard FileManager.default.createFile(atPath: base + suffix, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base + suffix])
            }
        }
        stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
    }

    func readStdout() -> Data { FileManager.default.contents(atPath: base + ".out") ?? Data() }
    func readStderr() -> Data { FileManager.default.contents(atPath: base + ".err") ?? Data() }

    func remove() {
        try? stdout.close()
        try? stderr.close()
        try? FileManager.default.removeItem(atPath: base + ".out")
        try? FileManager.default.removeItem(atPath: base + ".err")
    }
}

/// The file descriptors open in this process now (from /proc/self/fd).
private func openDescriptors() -> [Int32] {
    // The listing's own descriptor is closed by now: keep only those still valid.
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        .filter { fcntl($0, F_GETFD) != -1 }
}
