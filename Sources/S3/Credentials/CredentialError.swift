/// Why no credentials could be found. Descriptions are one line, name files and profiles, and never hold a secret.
public enum CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing in the environment or the shared files.
    case noCredentials(credentialsFile: String)
    /// Only one of `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` is set.
    case incompleteEnvironment(missing: String)
    /// A profile named explicitly (argument or `AWS_PROFILE`) is in neither file.
    case profileNotFound(profile: String, credentialsFile: String, configFile: String)
    /// The profile lacks `aws_access_key_id` or `aws_secret_access_key`.
    case incompleteProfile(profile: String, missing: String, file: String)
    /// The profile gets credentials by a mechanism bucketfs does not implement (`role_arn`, `sso_session`, ...).
    case unsupportedProfile(profile: String, setting: String)
    /// The file exists but cannot be read as UTF-8 text.
    case unreadableFile(path: String)

    public var description: String {
        switch self {
        case .noCredentials(let file):
            "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add a [default] profile to "
                + "\(file), or use --no-sign-request"
        case .incompleteEnvironment(let missing):
            "\(missing) is not set, but the other half of the key pair is"
        case .profileNotFound(let profile, let credentialsFile, let configFile):
            "profile '\(profile)' not found in \(credentialsFile) or \(configFile)"
        case .incompleteProfile(let profile, let missing, let file):
            "profile '\(profile)' has no \(missing) (looked in \(file))"
        case .unsupportedProfile(let profile, let setting):
            "profile '\(profile)' uses \(setting), which bucketfs does not support; export temporary credentials "
                + "(aws configure export-credentials --format env) and retry"
        case .unreadableFile(let path):
            "cannot read \(path)"
        }
    }
}
