// FUSEBridge: the kernel's side of bucketfs.
// Owns: the `fuse_lowlevel_ops` table, request dispatch and replies, interrupts, and the session thread.
// Must never know: S3, HTTP, or how the filesystem core caches and uploads.

import CFUSE
import FilesystemCore
import Foundation
import Logging
import Synchronization
import SystemPackage

/// One kernel request awaiting exactly one reply.
///
/// SAFETY: libfuse allows a request to be answered from any thread, once; `Dispatcher` guarantees the once by
/// structure (each dispatched request replies in exactly one place), so carrying the pointer across threads is safe.
struct Request: @unchecked Sendable {
    let raw: fuse_req_t

    /// The caller's uid, gid and pid.
    var context: (uid: UInt32, gid: UInt32, pid: Int32) {
        let ctx = fuse_req_ctx(raw)!.pointee
        return (ctx.uid, ctx.gid, ctx.pid)
    }

    var key: UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(raw))) }
}

/// Turns any error into the errno the kernel sees: `ErrnoConvertible` errors choose their own, cancellation is
/// EINTR, and anything else is a bug: EIO, logged at error.
func errnoValue(of error: any Error, logger: Logger, op: String) -> Int32 {
    switch error {
    case let e as any ErrnoConvertible: return e.errno.rawValue
    case is CancellationError: return Errno.interrupted.rawValue
    default:
        logger.error("unexpected error", metadata: ["fuse.op": "\(op)", "error": "\(error)"])
        return Errno.ioError.rawValue
    }
}

/// Requests under way that the kernel may interrupt, by request address.
///
/// An entry is removed before its reply is sent, so an interrupt arriving after the reply finds nothing; while
/// libfuse runs the interrupt callback it keeps the request alive, so its address is not reused meanwhile.
let interruptibleRequests = Mutex<[UInt: Task<Void, Never>]>([:])

/// Runs `work` in a task and answers the request with `reply` or with the errno of the error thrown.
func dispatch<T: Sendable>(
    _ request: Request, op: StaticString, logger: Logger, work: @escaping @Sendable () async throws -> T,
    reply: @escaping @Sendable (Request, T) -> Void
) {
    let key = request.key
    fuse_req_interrupt_func(
        request.raw,
        { req, _ in
            let task = interruptibleRequests.withLock { table -> Task<Void, Never>? in
                guard let req else { return nil }
                return table[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(req)))]
            }
            task?.cancel()
        }, nil)
    interruptibleRequests.withLock { table in
        table[key] = Task {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            // Taking the lock also waits until this task's own entry has been stored.
            _ = interruptibleRequests.withLock { $0.removeValue(forKey: key) }
            switch result {
            case .success(let value): reply(request, value)
            case .failure(let error):
                let code = errnoValue(of: error, logger: logger, op: "\(op)")
                if logger.logLevel <= .debug {
                    logger.debug("request failed", metadata: ["fuse.op": "\(op)", "errno": "\(code)", "error": "\(error)"])
                }
                fuse_reply_err(request.raw, code)
            }
        }
    }
}
