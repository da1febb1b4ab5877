import Foundation
import Logging
import ObjectStorage
import S3

extension MountPlan {
    /// Builds the S3 client and proves, before mounting, that the endpoint answers, the credentials are accepted and
    /// the bucket exists, within a bounded time.
    func connect(logger: Logger) async throws -> (S3ObjectStore, CurlTransport) {
        let environment = ProcessInfo.processInfo.environment
        let s3 = command.s3
        let chain = CredentialChain(environment: environment)
        let region = chain.region(explicit: s3.region, profile: s3.profile)
        let credentials: AWSCredentials?
        do {
            credentials = s3.noSignRequest ? nil : try chain.credentials(profile: s3.profile)
        } catch {
            throw MountFailure("\(error)")
        }
        let https = (s3.endpoint ?? "https://").lowercased().hasPrefix("https://")
        // AWS_CA_BUNDLE is for HTTPS only, as the AWS CLI uses it; plain-HTTP endpoints ignore it.
        let caBundle = s3.caBundle ?? (https ? environment["AWS_CA_BUNDLE"] : nil)
        let transport = try CurlTransport(
            configuration: CurlTransport.Configuration(caBundle: caBundle, verifyTLS: !s3.noVerifyTls),
            logger: Logger(label: "bucketfs.http"))
        var configuration = S3Configuration(
            endpoint: s3.endpoint, bucket: bucket, region: region, credentials: credentials,
            addressing: s3.pathStyle ? .pathStyle : .automatic, requestTimeout: .seconds(Int64(s3.requestTimeout)))
        let store = S3ObjectStore(configuration: configuration, transport: transport, logger: Logger(label: "bucketfs.s3"))
        configuration.requestTimeout = .seconds(4)
        configuration.maxAttempts = 2
        // The probe's retries are not news: its outcome is the one line the user sees.
        var quiet = Logger(label: "bucketfs.s3")
        quiet.logLevel = .error
        let probe = S3ObjectStore(configuration: configuration, transport: transport, logger: quiet)
        do {
            try await probe.checkBucket()
        } catch let error as ObjectStoreError {
            transport.shutdown()
            throw MountFailure(Self.explain(error, endpoint: s3.endpoint ?? "AWS S3 (\(region))", bucket: bucket))
        }
        return (store, transport)
    }

    static func explain(_ error: ObjectStoreError, endpoint: String, bucket: String) -> String {
        switch error {
        case .noSuchBucket, .notFound: "bucket '\(bucket)' does not exist at \(endpoint)"
        case .accessDenied(let code, _): "the credentials were refused for bucket '\(bucket)' (\(code))"
        case .transport(let detail): "cannot reach \(endpoint): \(detail)"
        default: "cannot use bucket '\(bucket)' at \(endpoint): \(error)"
        }
    }
}
