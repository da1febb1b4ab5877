import Foundation

/// Finds credentials and the region as the AWS CLI does, from an environment given as a dictionary (so tests are
/// hermetic) and the shared files it names.
///
/// Credentials: with no explicit profile, `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`)
/// win; otherwise the profile (explicit, else `AWS_PROFILE`, else `default`) is read from the credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`, sections `[NAME]`), then from the config file
/// (`AWS_CONFIG_FILE`, else `~/.aws/config`, sections `[profile NAME]` and `[default]`).
/// Region: explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region` in the config file, `us-east-1`.
public struct CredentialChain: Sendable {
    public let environment: [String: String]
    let home: String

    /// - Parameter homeDirectory: where `~` is; defaults to `HOME` from `environment`, then the user's home.
    public init(environment: [String: String], homeDirectory: String? = nil) {
        self.environment = environment
        self.home = homeDirectory ?? Self.nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
    }

    /// The profile used when `explicit` is nil: `AWS_PROFILE`, else `default`.
    public func profileName(_ explicit: String? = nil) -> String {
        Self.nonEmpty(explicit) ?? Self.nonEmpty(environment["AWS_PROFILE"]) ?? "default"
    }

    /// The credentials for `profile` (or the environment's).
    /// - Throws: `CredentialError`, whose description says what to set.
    public func credentials(profile: String? = nil) throws(CredentialError) -> AWSCredentials {
        if Self.nonEmpty(profile) == nil {
            let id = Self.nonEmpty(environment["AWS_ACCESS_KEY_ID"])
            let secret = Self.nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
            switch (id, secret) {
            case (let id?, let secret?):
                return AWSCredentials(
                    accessKeyID: id, secretAccessKey: secret,
                    sessionToken: Self.nonEmpty(environment["AWS_SESSION_TOKEN"]))
            case (_?, nil): throw .incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")
            case (nil, _?): throw .incompleteEnvironment(missing: "AWS_ACCESS_KEY_ID")
            case (nil, nil): break
            }
        }
        let name = profileName(profile)
        let named = Self.nonEmpty(profile) != nil || Self.nonEmpty(environment["AWS_PROFILE"]) != nil
        let files = paths()
        let fromCredentials = try SharedConfigFile.load(path: files.credentials, displayPath: files.credentialsShown)?
            .sections[name]
        let fromConfig = try configSection(name, files)
        guard fromCredentials != nil || fromConfig != nil else {
            if named {
                throw .profileNotFound(
                    profile: name, credentialsFile: files.credentialsShown, configFile: files.configShown)
            }
            throw .noCredentials(credentialsFile: files.credentialsShown)
        }
        func setting(_ key: String) -> String? { Self.nonEmpty(fromCredentials?[key] ?? fromConfig?[key]) }
        let id = setting("aws_access_key_id")
        let secret = setting("aws_secret_access_key")
        if let id, let secret {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: setting("aws_session_token"))
        }
        if id == nil, secret == nil {
            for unsupported in ["credential_process", "role_arn", "sso_session", "sso_start_url", "web_identity_token_file"]
            where setting(unsupported) != nil {
                throw .unsupportedProfile(profile: name, setting: unsupported)
            }
            if !named { throw .noCredentials(credentialsFile: files.credentialsShown) }
        }
        let file = fromCredentials != nil ? files.credentialsShown : files.configShown
        throw .incompleteProfile(profile: name, missing: id == nil ? "aws_access_key_id" : "aws_secret_access_key", file: file)
    }

    /// The region to sign for. An unreadable config file counts as one without a region.
    public func region(explicit: String? = nil, profile: String? = nil) -> String {
        if let explicit = Self.nonEmpty(explicit) { return explicit }
        if let region = Self.nonEmpty(environment["AWS_REGION"]) { return region }
        if let region = Self.nonEmpty(environment["AWS_DEFAULT_REGION"]) { return region }
        let files = paths()
        return Self.nonEmpty((try? configSection(profileName(profile), files))??["region"]) ?? "us-east-1"
    }

    private func configSection(_ name: String, _ files: Paths) throws(CredentialError) -> [String: String]? {
        guard let config = try SharedConfigFile.load(path: files.config, displayPath: files.configShown) else {
            return nil
        }
        // The config file writes `[profile NAME]`; `default` may appear either way.
        return config.sections["profile \(name)"] ?? (name == "default" ? config.sections["default"] : nil)
    }

    struct Paths {
        var credentials: String, credentialsShown: String, config: String, configShown: String
    }

    func paths() -> Paths {
        let credentials = Self.nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"])
        let config = Self.nonEmpty(environment["AWS_CONFIG_FILE"])
        return Paths(
            credentials: credentials.map(expand) ?? "\(home)/.aws/credentials",
            credentialsShown: credentials ?? "~/.aws/credentials", config: config.map(expand) ?? "\(home)/.aws/config",
            configShown: config ?? "~/.aws/config")
    }

    private func expand(_ path: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
