/// An AWS access key pair, with the session token of temporary credentials.
///
/// Printing, debug-printing, string interpolation and `dump` all redact the secret and the token, so a credential
/// that reaches a log line or an error message by accident leaks only its public access key ID.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The public half (`AKIA...`, `ASIA...`); safe to log.
    public var accessKeyID: String
    /// The secret half; never logged.
    public var secretAccessKey: String
    /// The token of temporary (STS) credentials, sent as `x-amz-security-token`; never logged.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": accessKeyID, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ])
    }
}
