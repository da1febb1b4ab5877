import Foundation
import ObjectStorage
import Testing

@testable import S3

@Suite("S3ObjectStore errors and retries")
struct S3ObjectStoreErrorTests {
    static func errorBody(_ code: String, _ message: String = "m") -> Data {
        Data("<?xml version=\"1.0\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>".utf8)
    }

    static func response(_ status: Int, _ code: String) -> ScriptedTransport.Step {
        .respond(HTTPResponse(status: status, body: errorBody(code)))
    }

    @Test(
        "S3 error codes map to storage errors",
        arguments: [
            (404, "NoSuchKey", ObjectStoreError.notFound(key: "k")),
            (404, "NoSuchBucket", .noSuchBucket(bucket: "bucket")),
            (412, "PreconditionFailed", .preconditionFailed(key: "k")),
            (403, "AccessDenied", .accessDenied(code: "AccessDenied", message: "m")),
            (403, "InvalidAccessKeyId", .accessDenied(code: "InvalidAccessKeyId", message: "m")),
            (403, "SignatureDoesNotMatch", .accessDenied(code: "SignatureDoesNotMatch", message: "m")),
            (403, "InvalidObjectState", .archived(key: "k", storageClass: "GLACIER")),
            (416, "InvalidRange", .invalidRange(key: "k")),
            (400, "InvalidArgument", .invalidRequest(code: "InvalidArgument", message: "m")),
            (501, "NotImplemented", .server(status: 501, code: "NotImplemented")),
        ])
    func mapping(status: Int, code: String, expected: ObjectStoreError) async {
        let transport = ScriptedTransport([Self.response(status, code)])
        await #expect(throws: expected) {
            _ = try await makeStore(transport).get(ObjectKey("k")!, range: nil, ifMatch: nil)
        }
    }

    @Test("a HEAD without a body maps by status: 404 is notFound, 403 accessDenied, 412 preconditionFailed")
    func headByStatus() async {
        for (status, expected) in [
            (404, ObjectStoreError.notFound(key: "k")), (403, .accessDenied(code: "AccessDenied", message: "HTTP 403")),
            (412, .preconditionFailed(key: "k")),
        ] {
            let transport = ScriptedTransport(status: status)
            await #expect(throws: expected) { _ = try await makeStore(transport).head(ObjectKey("k")!) }
        }
    }

    @Test("a 503 is retried with a fresh signature until it succeeds, and the retry is counted")
    func retryThenSuccess() async throws {
        let transport = ScriptedTransport([
            Self.response(503, "SlowDown"), .respond(HTTPResponse(status: 500)),
            .respond(HTTPResponse(status: 200, headers: ["content-length": "1"])),
        ])
        let store = makeStore(transport)
        _ = try await store.head(ObjectKey("k")!)
        #expect(transport.requests.count == 3)
        #expect(transport.requests.allSatisfy { $0.header("Authorization") != nil && $0.header("x-amz-date") != nil })
        #expect(store.statistics.snapshot().retries == 2)
    }

    @Test("throttling that never ends fails with throttled after maxAttempts")
    func throttledGivesUp() async {
        let transport = ScriptedTransport([Self.response(503, "SlowDown")])
        await #expect(throws: ObjectStoreError.throttled) {
            _ = try await makeStore(transport, maxAttempts: 4).get(ObjectKey("k")!, range: nil, ifMatch: nil)
        }
        #expect(transport.requests.count == 4)
    }

    @Test("a 403 is never retried")
    func noRetryOn403() async {
        let transport = ScriptedTransport([Self.response(403, "AccessDenied")])
        await #expect(throws: ObjectStoreError.self) { _ = try await makeStore(transport).checkBucket() }
        #expect(transport.requests.count == 1)
    }

    @Test("checkBucket lists one key and maps NoSuchBucket and bad credentials")
    func checkBucket() async throws {
        let ok = ScriptedTransport(status: 200, body: "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
        try await makeStore(ok).checkBucket()
        #expect(ok.requests[0].url.contains("max-keys=1"))
        let missing = ScriptedTransport([Self.response(404, "NoSuchBucket")])
        await #expect(throws: ObjectStoreError.noSuchBucket(bucket: "bucket")) { try await makeStore(missing).checkBucket() }
        let refused = ScriptedTransport([Self.response(403, "SignatureDoesNotMatch")])
        await #expect(throws: ObjectStoreError.accessDenied(code: "SignatureDoesNotMatch", message: "m")) {
            try await makeStore(refused).checkBucket()
        }
    }

    @Test("a CompleteMultipartUpload that answers 200 with an InternalError body is retried, then succeeds")
    func completeErrorInside200() async throws {
        let transport = ScriptedTransport([
            .respond(HTTPResponse(status: 200, body: Self.errorBody("InternalError"))),
            .respond(HTTPResponse(status: 200, body: Data("<CompleteMultipartUploadResult><ETag>\"m\"</ETag></CompleteMultipartUploadResult>".utf8))),
        ])
        let etag = try await makeStore(transport).completeMultipartUpload(
            ObjectKey("k")!, uploadID: "u", parts: [CompletedPart(partNumber: 1, etag: "\"a\"")])
        #expect(etag == "\"m\"")
        #expect(transport.requests.count == 2)
    }

    @Test("a CompleteMultipartUpload that keeps answering 200 with InternalError fails as a server error")
    func completeErrorExhausted() async {
        let transport = ScriptedTransport([.respond(HTTPResponse(status: 200, body: Self.errorBody("InternalError")))])
        await #expect(throws: ObjectStoreError.server(status: 500, code: "InternalError")) {
            _ = try await makeStore(transport, maxAttempts: 3).completeMultipartUpload(
                ObjectKey("k")!, uploadID: "u", parts: [CompletedPart(partNumber: 1, etag: "\"a\"")])
        }
        #expect(transport.requests.count == 3)
    }

    @Test("a copy that answers 200 with a non-transient Error body fails without retrying")
    func copyErrorInside200() async {
        let transport = ScriptedTransport([.respond(HTTPResponse(status: 200, body: Self.errorBody("AccessDenied")))])
        await #expect(throws: ObjectStoreError.accessDenied(code: "AccessDenied", message: "m")) {
            _ = try await makeStore(transport).copy(from: ObjectKey("a")!, to: ObjectKey("b")!, attributes: nil, ifMatch: nil)
        }
        #expect(transport.requests.count == 1)
    }

    @Test("a conditional PUT that meets 412 or 409 ConditionalRequestConflict fails with preconditionFailed")
    func conditionalPut() async {
        for step in [Self.response(412, "PreconditionFailed"), Self.response(409, "ConditionalRequestConflict")] {
            let transport = ScriptedTransport([step])
            await #expect(throws: ObjectStoreError.preconditionFailed(key: "k")) {
                _ = try await makeStore(transport).put(ObjectKey("k")!, body: Data(), attributes: ObjectAttributes(), ifNoneMatch: true)
            }
        }
    }

    @Test("deleting a missing key and aborting a gone upload both succeed")
    func idempotentDeletes() async throws {
        let transport = ScriptedTransport([Self.response(404, "NoSuchKey"), Self.response(404, "NoSuchUpload")])
        let store = makeStore(transport)
        try await store.delete(ObjectKey("k")!)
        try await store.abortMultipartUpload(ObjectKey("k")!, uploadID: "u")
        #expect(transport.requests.map(\.method) == ["DELETE", "DELETE"])
    }

    @Test("a lost connection is retried, a refused one only a few times, and TLS failures not at all")
    func transportFailures() async throws {
        let lost = ScriptedTransport([
            .fail(.connectionLost(detail: "reset")), .fail(.timedOut),
            .respond(HTTPResponse(status: 200, headers: ["content-length": "0"])),
        ])
        _ = try await makeStore(lost).head(ObjectKey("k")!)
        #expect(lost.requests.count == 3)
        let refused = ScriptedTransport([.fail(.cannotConnect(detail: "refused"))])
        await #expect(throws: ObjectStoreError.transport(detail: "cannot connect: refused")) {
            _ = try await makeStore(refused).head(ObjectKey("k")!)
        }
        #expect(refused.requests.count == 3)
        let tls = ScriptedTransport([.fail(.tls(detail: "untrusted"))])
        await #expect(throws: ObjectStoreError.self) { _ = try await makeStore(tls).head(ObjectKey("k")!) }
        #expect(tls.requests.count == 1)
    }

    @Test("every request is logged at debug and every retry at warning, and no line holds a secret")
    func logsNeverHoldSecrets() async throws {
        let captured = CapturedLines()
        let credentials = AWSCredentials(accessKeyID: "AKIDLOG", secretAccessKey: "TOPSECRETKEY", sessionToken: "TOKENVALUE")
        let transport = ScriptedTransport([
            Self.response(503, "SlowDown"), Self.response(403, "SignatureDoesNotMatch"),
        ])
        let store = makeStore(transport, credentials: credentials, logger: CapturingLogHandler.logger(into: captured))
        var thrown: (any Error)?
        do { _ = try await store.get(ObjectKey("k")!, range: nil, ifMatch: nil) } catch { thrown = error }
        let lines = captured.all
        #expect(lines.filter { $0.hasPrefix("debug s3 request") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("warning s3 request retried") }.count == 1)
        let signature = transport.requests[0].header("Authorization")!.components(separatedBy: "Signature=").last!
        for line in lines + ["\(String(describing: thrown))", "\(credentials)", String(reflecting: credentials)] {
            #expect(!line.contains("TOPSECRETKEY"))
            #expect(!line.contains("TOKENVALUE"))
            #expect(!line.contains(signature))
        }
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("TOPSECRETKEY") && !dumped.contains("TOKENVALUE"))
    }
}
