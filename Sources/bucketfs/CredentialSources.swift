import Foundation
import S3

/// Credentials and region found as the AWS CLI finds them: the environment first, then the shared credentials and
/// config files (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, `~/.aws/…`) for the profile (`--profile`,
/// `AWS_PROFILE`, else `default`).
enum CredentialSources {
    static func profileName(_ explicit: String?, _ environment: [String: String]) -> String {
        explicit ?? environment["AWS_PROFILE"] ?? "default"
    }

    static func credentials(profile: String?, environment: [String: String]) throws -> AWSCredentials {
        if profile == nil, let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !id.isEmpty, !secret.isEmpty
        {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        let name = profileName(profile, environment)
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let configFile = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        let sections = INIFile.sections(at: file)
        let config = INIFile.sections(at: configFile)
        let values = sections[name] ?? config[name == "default" ? "default" : "profile \(name)"]
        guard let values else {
            if profile != nil || environment["AWS_PROFILE"] != nil {
                throw MountFailure("profile '\(name)' not found in \(file) or \(configFile)")
            }
            throw MountFailure(
                "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add them to \(file), or use --no-sign-request")
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            throw MountFailure("profile '\(name)' in \(file) has no aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }

    static func region(explicit: String?, profile: String?, environment: [String: String]) -> String {
        if let explicit { return explicit }
        if let r = environment["AWS_REGION"], !r.isEmpty { return r }
        if let r = environment["AWS_DEFAULT_REGION"], !r.isEmpty { return r }
        let name = profileName(profile, environment)
        let home = environment["HOME"] ?? NSHomeDirectory()
        let config = INIFile.sections(at: environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config")
        return config[name == "default" ? "default" : "profile \(name)"]?["region"] ?? config[name]?["region"]
            ?? "us-east-1"
    }
}

/// The INI dialect of the AWS shared files: `[section]`, `key = value`, `#` and `;` comments.
enum INIFile {
    static func sections(at path: String) -> [String: [String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if out[current!] == nil { out[current!] = [:] }
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out[section]![key] = value
        }
        return out
    }
}
