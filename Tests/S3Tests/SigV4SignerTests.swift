import Foundation
import Testing

@testable import S3

/// Expected signatures come from AWS's published documents, never from this code: the aws-sig-v4-test-suite
/// (service `service`, us-east-1, 20150830T123600Z, key AKIDEXAMPLE) and the S3 API reference page "Signature
/// Calculations for the Authorization Header: Transferring Payload in a Single Chunk" (20130524T000000Z).
@Suite("SigV4 signing")
struct SigV4SignerTests {
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let suiteSigner = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let s3Signer = SigV4Signer(
        credentials: AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")

    static func suiteAuthorization(signedHeaders: String, signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    static func signature(of request: HTTPRequest) -> String? {
        request.header("Authorization")?.components(separatedBy: "Signature=").last
    }

    @Test("the suite's get-vanilla request signs to its published Authorization header")
    func getVanilla() {
        let signed = Self.suiteSigner.sign(
            HTTPRequest(method: "GET", url: "https://example.amazonaws.com/"), date: Self.suiteDate)
        #expect(
            signed.header("Authorization")
                == Self.suiteAuthorization(
                    signedHeaders: "host;x-amz-date",
                    signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
        #expect(signed.header("x-amz-date") == "20150830T123600Z")
        #expect(signed.header("host") == "example.amazonaws.com")
    }

    @Test("the suite's get-vanilla-query-order-key-case request signs with its query sorted by name")
    func queryOrder() {
        let signed = Self.suiteSigner.sign(
            HTTPRequest(method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1"),
            date: Self.suiteDate)
        #expect(
            signed.header("Authorization")
                == Self.suiteAuthorization(
                    signedHeaders: "host;x-amz-date",
                    signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test("the suite's post-x-www-form-urlencoded request signs its Content-Type and the hash of its body")
    func postForm() {
        let request = HTTPRequest(
            method: "POST", url: "https://example.amazonaws.com/",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Data("Param1=value1".utf8))
        let signed = Self.suiteSigner.sign(request, date: Self.suiteDate)
        #expect(
            signed.header("Authorization")
                == Self.suiteAuthorization(
                    signedHeaders: "content-type;host;x-amz-date",
                    signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))
    }

    @Test("the suite's get-vanilla-with-session-token request signs and sends x-amz-security-token")
    func sessionToken() {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: token),
            region: "us-east-1", service: "service")
        let signed = signer.sign(HTTPRequest(method: "GET", url: "https://example.amazonaws.com/"), date: Self.suiteDate)
        #expect(
            signed.header("Authorization")
                == Self.suiteAuthorization(
                    signedHeaders: "host;x-amz-date;x-amz-security-token",
                    signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"))
        #expect(signed.header("x-amz-security-token") == token)
    }

    @Test("the S3 GET Object example with Range bytes=0-9 signs to the documented signature")
    func s3GetObject() {
        let request = HTTPRequest(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt", headers: [("Range", "bytes=0-9")])
        let signed = Self.s3Signer.sign(request, date: Self.s3Date)
        #expect(signed.header("x-amz-content-sha256") == SigV4Signer.emptyPayloadHash)
        #expect(
            signed.header("Authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("the S3 PUT Object example for test$file.text signs its body, Date and storage class")
    func s3PutObject() {
        let request = HTTPRequest(
            method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test%24file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            body: Data("Welcome to Amazon S3.".utf8))
        let signed = Self.s3Signer.sign(request, date: Self.s3Date)
        #expect(
            signed.header("x-amz-content-sha256") == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(signed.header("Authorization")?.contains(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,") == true)
        #expect(Self.signature(of: signed) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("the S3 GET Bucket lifecycle example signs a query name without a value as lifecycle=")
    func s3Lifecycle() {
        let signed = Self.s3Signer.sign(
            HTTPRequest(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle"), date: Self.s3Date)
        #expect(Self.signature(of: signed) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("the S3 ListObjects example signs the same in either query order", arguments: [
        "max-keys=2&prefix=J", "prefix=J&max-keys=2",
    ])
    func s3ListObjects(query: String) {
        let signed = Self.s3Signer.sign(
            HTTPRequest(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?\(query)"), date: Self.s3Date)
        #expect(Self.signature(of: signed) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("an unsigned payload is signed and sent as UNSIGNED-PAYLOAD")
    func unsignedPayload() {
        let request = HTTPRequest(method: "PUT", url: "https://examplebucket.s3.amazonaws.com/k", body: Data("x".utf8))
        let signed = Self.s3Signer.sign(request, date: Self.s3Date, payload: .unsigned)
        #expect(signed.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
    }

    @Test("the canonical query encodes values with RFC 3986 and %20 for spaces, and the path is not re-encoded")
    func canonicalForms() {
        #expect(SigV4Signer.canonicalQuery("prefix=a%20b%2Bc&delimiter=%2F&uploads") == "delimiter=%2F&prefix=a%20b%2Bc&uploads=")
        #expect(SigV4Signer.canonicalQuery("a=~-._") == "a=~-._")
        let target = RequestTarget(url: "http://127.0.0.1:8333/bucket/a%20b/%2E%2E/c?x=1")
        #expect(target.authority == "127.0.0.1:8333")
        #expect(target.path == "/bucket/a%20b/%2E%2E/c")
        let canonical = Self.s3Signer.canonicalRequest(
            method: "GET", target: target, headers: [("host", target.authority)], payloadHash: "h")
        #expect(canonical.request.hasPrefix("GET\n/bucket/a%20b/%2E%2E/c\nx=1\nhost:127.0.0.1:8333\n"))
    }

    @Test("the Host header drops the default port of the scheme and keeps any other")
    func hostPorts() {
        #expect(RequestTarget(url: "https://s3.amazonaws.com:443/b").authority == "s3.amazonaws.com")
        #expect(RequestTarget(url: "http://localhost:80/").authority == "localhost")
        #expect(RequestTarget(url: "http://[::1]:9000/b").authority == "[::1]:9000")
    }
}
