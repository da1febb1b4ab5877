import Foundation
import Testing

@testable import S3

@Suite("Credential chain")
struct CredentialChainTests {
    /// A fresh home with `.aws/credentials` and `.aws/config` holding the given text (nil: no file).
    static func home(credentials: String?, config: String?) throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("bucketfs-creds-\(UUID().uuidString)")
        let aws = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        if let credentials { try Data(credentials.utf8).write(to: aws.appendingPathComponent("credentials")) }
        if let config { try Data(config.utf8).write(to: aws.appendingPathComponent("config")) }
        return home.path
    }

    static let credentialsText = """
        # a comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secret-default   ; inline comment
          ; indented comment
        [ work ]
        AWS_ACCESS_KEY_ID=AKIDWORK
        aws_secret_access_key=secret/work+key
        aws_session_token = token-work
        [half]
        aws_access_key_id = AKIDHALF
        """
    static let configText = """
        [default]
        region = eu-central-1
        [profile work]
        region = ap-south-1
        s3 =
          region = nested-must-not-win
        [profile fromconfig]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = secret-config
        [profile sso]
        sso_session = corp
        """

    @Test("environment keys win when no profile is named, with the session token")
    func environmentFirst() throws {
        let home = try Self.home(credentials: Self.credentialsText, config: nil)
        let chain = CredentialChain(
            environment: ["HOME": home, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env",
                "AWS_SESSION_TOKEN": "tok"])
        #expect(try chain.credentials() == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "secret-env", sessionToken: "tok"))
        #expect(try chain.credentials(profile: "work").accessKeyID == "AKIDWORK")
    }

    @Test("the default profile, AWS_PROFILE and an explicit profile read the credentials file, spaces and comments tolerated")
    func profiles() throws {
        let home = try Self.home(credentials: Self.credentialsText, config: Self.configText)
        #expect(
            try CredentialChain(environment: ["HOME": home]).credentials()
                == AWSCredentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secret-default"))
        let work = try CredentialChain(environment: ["HOME": home, "AWS_PROFILE": "work"]).credentials()
        #expect(work == AWSCredentials(accessKeyID: "AKIDWORK", secretAccessKey: "secret/work+key", sessionToken: "token-work"))
        #expect(try CredentialChain(environment: ["HOME": home]).credentials(profile: "fromconfig").accessKeyID == "AKIDCONFIG")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE replace the files under ~/.aws")
    func fileOverrides() throws {
        let other = try Self.home(credentials: "[default]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=s\n", config: "[default]\nregion=sa-east-1\n")
        let home = try Self.home(credentials: Self.credentialsText, config: Self.configText)
        let chain = CredentialChain(environment: [
            "HOME": home, "AWS_SHARED_CREDENTIALS_FILE": other + "/.aws/credentials", "AWS_CONFIG_FILE": other + "/.aws/config",
        ])
        #expect(try chain.credentials().accessKeyID == "AKIDOTHER")
        #expect(chain.region() == "sa-east-1")
    }

    @Test("the region comes from the argument, AWS_REGION, AWS_DEFAULT_REGION, the profile, then us-east-1")
    func region() throws {
        let home = try Self.home(credentials: nil, config: Self.configText)
        #expect(CredentialChain(environment: ["HOME": home, "AWS_REGION": "r1"]).region(explicit: "r0") == "r0")
        #expect(CredentialChain(environment: ["HOME": home, "AWS_REGION": "r1", "AWS_DEFAULT_REGION": "r2"]).region() == "r1")
        #expect(CredentialChain(environment: ["HOME": home, "AWS_DEFAULT_REGION": "r2"]).region() == "r2")
        #expect(CredentialChain(environment: ["HOME": home]).region() == "eu-central-1")
        #expect(CredentialChain(environment: ["HOME": home]).region(profile: "work") == "ap-south-1")
        let empty = try Self.home(credentials: nil, config: nil)
        #expect(CredentialChain(environment: ["HOME": empty]).region() == "us-east-1")
    }

    @Test("missing credentials, profiles and halves fail with one-line errors that name what to fix")
    func errors() throws {
        let empty = try Self.home(credentials: nil, config: nil)
        #expect(throws: CredentialError.noCredentials(credentialsFile: "~/.aws/credentials")) {
            try CredentialChain(environment: ["HOME": empty]).credentials()
        }
        #expect(
            CredentialError.noCredentials(credentialsFile: "~/.aws/credentials").description.hasPrefix(
                "no credentials found: set AWS_ACCESS_KEY_ID"))
        #expect(throws: CredentialError.profileNotFound(profile: "x", credentialsFile: "~/.aws/credentials", configFile: "~/.aws/config")) {
            try CredentialChain(environment: ["HOME": empty, "AWS_PROFILE": "x"]).credentials()
        }
        #expect(throws: CredentialError.incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")) {
            try CredentialChain(environment: ["HOME": empty, "AWS_ACCESS_KEY_ID": "AKID"]).credentials()
        }
        let home = try Self.home(credentials: Self.credentialsText, config: Self.configText)
        #expect(throws: CredentialError.incompleteProfile(profile: "half", missing: "aws_secret_access_key", file: "~/.aws/credentials")) {
            try CredentialChain(environment: ["HOME": home]).credentials(profile: "half")
        }
        #expect(throws: CredentialError.unsupportedProfile(profile: "sso", setting: "sso_session")) {
            try CredentialChain(environment: ["HOME": home]).credentials(profile: "sso")
        }
    }

    @Test("no credential error description contains a secret from the files or the environment")
    func errorsHoldNoSecrets() throws {
        let home = try Self.home(credentials: Self.credentialsText, config: Self.configText)
        let environment = ["HOME": home, "AWS_SECRET_ACCESS_KEY": "env-secret-value"]
        var descriptions: [String] = []
        do { _ = try CredentialChain(environment: environment).credentials() } catch { descriptions.append("\(error)") }
        do { _ = try CredentialChain(environment: environment).credentials(profile: "half") } catch {
            descriptions.append("\(error)")
        }
        #expect(descriptions.count == 2)
        for description in descriptions {
            #expect(!description.contains("env-secret-value") && !description.contains("secret-default"))
        }
    }
}
