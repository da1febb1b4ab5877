import CCurl

extension CurlTransport {
    /// The transport error for a failed transfer.
    ///
    /// `message` is the transfer's error buffer, already stripped of the URL's query and every header value; the
    /// detail never carries credentials.
    static func transportError(for code: CURLcode, message: String) -> HTTPTransportError {
        let summary = String(cString: curl_easy_strerror(code))
        let detail = message.isEmpty || message == summary ? summary : "\(summary): \(message)"
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .cannotConnect(detail: detail)
        case CURLE_OPERATION_TIMEDOUT:
            // Also the low-speed limit: a stalled body is a timeout.
            return .timedOut
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING:
            return .connectionLost(detail: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_PEER_FAILED_VERIFICATION,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls(detail: detail)
        default:
            return .other(detail: detail)
        }
    }
}
