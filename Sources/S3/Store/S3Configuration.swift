/// Where and how `S3ObjectStore` reaches its bucket.
public struct S3Configuration: Sendable {
    /// How the bucket appears in request URLs.
    public enum Addressing: Sendable, Hashable {
        /// Path style for IP-address and `localhost` endpoints and for bucket names that are not DNS labels
        /// (dots, upper case, underscores); virtual-hosted otherwise.
        case automatic
        /// `https://endpoint/bucket/key`.
        case pathStyle
        /// `https://bucket.endpoint/key`.
        case virtualHosted
    }

    /// `http://127.0.0.1:8333`, `https://s3.eu-west-1.amazonaws.com`; nil means `https://s3.REGION.amazonaws.com`.
    public var endpoint: String?
    public var bucket: String
    public var region: String
    /// Nil sends unsigned requests (`--no-sign-request`, public buckets).
    public var credentials: AWSCredentials?
    public var addressing: Addressing
    /// The limit on one HTTP exchange (each attempt has its own).
    public var requestTimeout: Duration
    /// Attempts per operation, the first included.
    public var maxAttempts: Int
    /// Backoff before retry n is a random delay in `0...min(retryMaxDelay, retryBaseDelay * 2^(n-1))`.
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    /// Sign the SHA-256 of each body (true) or `UNSIGNED-PAYLOAD`, which saves hashing uploads over HTTPS.
    public var signsPayload: Bool

    public init(
        endpoint: String? = nil, bucket: String, region: String = "us-east-1", credentials: AWSCredentials? = nil,
        addressing: Addressing = .automatic, requestTimeout: Duration = .seconds(30), maxAttempts: Int = 6,
        retryBaseDelay: Duration = .milliseconds(100), retryMaxDelay: Duration = .seconds(10),
        signsPayload: Bool = true
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.addressing = addressing
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.signsPayload = signsPayload
    }
}
