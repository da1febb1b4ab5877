import ObjectStorage

/// Turns an S3 error response (status and `<Error>` body) into an `ObjectStoreError`.
enum S3ErrorMapping {
    /// The error `response` stands for. HEAD responses have no body, so their status alone decides.
    static func error(for response: HTTPResponse, key: String?, bucket: String) -> ObjectStoreError {
        error(status: response.status, body: S3XML.error(from: response.body), headers: response.headers, key: key,
            bucket: bucket)
    }

    static func error(
        status: Int, body: S3ErrorResponse?, headers: [String: String] = [:], key: String?, bucket: String
    ) -> ObjectStoreError {
        let code = body?.code ?? ""
        let message = body?.message ?? ""
        switch code {
        case "NoSuchKey": return .notFound(key: key ?? "")
        case "NoSuchBucket": return .noSuchBucket(bucket: bucket)
        case "PreconditionFailed", "ConditionalRequestConflict": return .preconditionFailed(key: key ?? "")
        case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
            "AllAccessDisabled", "AccountProblem":
            return .accessDenied(code: code, message: message)
        case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded": return .throttled
        case "InvalidObjectState": return .archived(key: key ?? "", storageClass: body?.storageClass ?? "GLACIER")
        case "InvalidRange": return .invalidRange(key: key ?? "")
        default: break
        }
        if [301, 307].contains(status) || ["AuthorizationHeaderMalformed", "PermanentRedirect"].contains(code) {
            // The bucket lives in another region; S3 names it in a header.
            let region = headers["x-amz-bucket-region"].map { " (bucket region: \($0))" } ?? ""
            return .invalidRequest(
                code: code.isEmpty ? "PermanentRedirect" : code,
                message: (message.isEmpty ? "the bucket must be addressed through another endpoint" : message) + region)
        }
        switch status {
        case 404 where key != nil: return .notFound(key: key!)
        case 404: return .noSuchBucket(bucket: bucket)
        case 412: return .preconditionFailed(key: key ?? "")
        case 416: return .invalidRange(key: key ?? "")
        case 403: return .accessDenied(code: code.isEmpty ? "AccessDenied" : code, message: message.isEmpty ? "HTTP 403" : message)
        case 429: return .throttled
        case 500...599: return .server(status: status, code: code)
        default: return .invalidRequest(code: code.isEmpty ? "HTTP \(status)" : code, message: message)
        }
    }

    /// Whether an attempt that got `status` (and perhaps an `<Error>` with `code`) may be retried.
    static func isRetryable(status: Int, code: String?) -> Bool {
        switch status {
        case 408, 429: true
        case 501: false  // Not Implemented does not get better.
        case 500...599: true
        case 200: ["InternalError", "SlowDown", "ServiceUnavailable"].contains(code ?? "")
        default: false
        }
    }

    /// A one-line, secret-free account of a transport failure.
    static func describe(_ error: HTTPTransportError) -> String {
        switch error {
        case .cannotConnect(let detail): "cannot connect: \(detail)"
        case .connectionLost(let detail): "connection lost: \(detail)"
        case .timedOut: "timed out"
        case .tls(let detail): "TLS: \(detail)"
        case .other(let detail): detail
        }
    }
}
