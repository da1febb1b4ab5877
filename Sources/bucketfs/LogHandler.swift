import Foundation
import Glibc
import Logging
import Synchronization

/// Where log lines go: stderr in the foreground, a file (`--log-file`), or syslog when in the background.
enum LogSink: Sendable {
    case standardError
    case file(String)
    case syslog
}

/// A swift-log handler writing one line per event: time, level, label, message, metadata as key=value.
/// SIGHUP reopens the file (for logrotate).
struct LineLogHandler: LogHandler {
    final class Output: Sendable {
        let sink: LogSink
        // Guards the open file descriptor.
        let fd = Mutex<Int32>(-1)

        init(sink: LogSink) {
            self.sink = sink
            if case .syslog = sink { openlog("bucketfs", LOG_PID, LOG_DAEMON) }
            reopen()
        }

        func reopen() {
            guard case .file(let path) = sink else { return }
            let new = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            fd.withLock { old in
                if old >= 0 { close(old) }
                old = new
            }
        }

        func write(_ line: String, level: Logger.Level) {
            switch sink {
            case .standardError:
                let bytes = Array((line + "\n").utf8)
                _ = bytes.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count) }
            case .file:
                let bytes = Array((line + "\n").utf8)
                fd.withLock { fd in _ = bytes.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count) } }
            case .syslog:
                let priority: Int32 =
                    switch level {
                    case .trace, .debug: LOG_DEBUG
                    case .info: LOG_INFO
                    case .notice: LOG_NOTICE
                    case .warning: LOG_WARNING
                    case .error: LOG_ERR
                    case .critical: LOG_CRIT
                    }
                withVaList([line]) { vsyslog(priority, "%s", $0) }
            }
        }
    }

    let label: String
    let output: Output
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote("\($0.value)"))" }.joined(separator: " ")
        var line = ""
        if case .syslog = output.sink {} else { line = Self.timestamp() + " " }
        line += "\(event.level) \(label): \(event.message)"
        if !fields.isEmpty { line += " " + fields }
        output.write(line, level: event.level)
    }

    private static func quote(_ value: String) -> String {
        value.contains(" ") || value.isEmpty ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    private static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var seconds = ts.tv_sec
        gmtime_r(&seconds, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, ts.tv_nsec / 1_000_000)
    }
}
