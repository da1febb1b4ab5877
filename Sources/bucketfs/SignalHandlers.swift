import Dispatch
import Foundation
import Glibc
import Logging

/// SIGTERM and SIGINT unmount cleanly (the daemon then finishes its work and exits); SIGHUP reopens the log file.
enum SignalHandlers {
    // SAFETY: set once during start-up, before any signal source exists.
    nonisolated(unsafe) static var logOutput: LineLogHandler.Output?
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(logger: Logger, unmount: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "bucketfs.signals")
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if number == SIGHUP {
                    logOutput?.reopen()
                    logger.info("log reopened")
                } else {
                    logger.info("signal received, unmounting", metadata: ["signal": "\(number)"])
                    unmount()
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
