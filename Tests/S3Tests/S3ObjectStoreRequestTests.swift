import Foundation
import ObjectStorage
import Testing

@testable import S3

@Suite("S3ObjectStore requests")
struct S3ObjectStoreRequestTests {
    static func endpoint(_ url: String?, bucket: String = "bucket", _ addressing: S3Configuration.Addressing = .automatic)
        -> S3Endpoint
    {
        S3Endpoint(configuration: S3Configuration(endpoint: url, bucket: bucket, region: "eu-west-1", addressing: addressing))
    }

    @Test(
        "automatic addressing is path-style for IP and localhost endpoints",
        arguments: ["http://127.0.0.1:8333", "http://localhost:9000", "http://[::1]:8333", "http://10.0.0.7"])
    func pathStyleForLocal(url: String) {
        let endpoint = Self.endpoint(url)
        #expect(endpoint.usesPathStyle)
        #expect(endpoint.url(key: ObjectKey("a/b")!) == "\(url)/bucket/a/b")
    }

    @Test("automatic addressing is virtual-hosted on AWS, and path-style for a bucket name with dots")
    func virtualHosted() {
        #expect(Self.endpoint(nil).url(key: ObjectKey("k")!) == "https://bucket.s3.eu-west-1.amazonaws.com/k")
        #expect(Self.endpoint(nil).url(key: nil) == "https://bucket.s3.eu-west-1.amazonaws.com/")
        let dotted = Self.endpoint("https://s3.eu-west-1.amazonaws.com", bucket: "my.bucket")
        #expect(dotted.url(key: ObjectKey("k")!) == "https://s3.eu-west-1.amazonaws.com/my.bucket/k")
        #expect(Self.endpoint("http://127.0.0.1:8333", .virtualHosted).url(key: nil) == "http://bucket.127.0.0.1:8333/")
        #expect(Self.endpoint("https://minio.example.com/", .pathStyle).url(key: nil) == "https://minio.example.com/bucket")
    }

    @Test("keys are percent-encoded byte by byte except unreserved characters and slashes")
    func keyEncoding() {
        let endpoint = Self.endpoint("http://127.0.0.1:8333")
        let cases: [(String, String)] = [
            ("a b/c d", "a%20b/c%20d"), ("été/ü", "%C3%A9t%C3%A9/%C3%BC"), ("1+1=2", "1%2B1%3D2"),
            ("100%", "100%25"), ("~user/-._", "~user/-._"), ("a//b/", "a//b/"), ("q?x#y&z", "q%3Fx%23y%26z"),
            ("./../x", "%2E/%2E%2E/x"),
        ]
        for (key, path) in cases {
            #expect(endpoint.url(key: ObjectKey(key)!) == "http://127.0.0.1:8333/bucket/\(path)")
        }
    }

    @Test("a listing asks for list-type=2 and encoding-type=url with an encoded prefix, delimiter and token")
    func listQuery() async throws {
        let transport = ScriptedTransport(status: 200, body: "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
        let store = makeStore(transport)
        _ = try await store.list(prefix: "a b/", delimiter: "/", continuationToken: "t+k=", maxKeys: 5000)
        #expect(
            transport.requests[0].url
                == "http://127.0.0.1:8333/bucket?list-type=2&encoding-type=url&prefix=a%20b%2F&delimiter=%2F"
                + "&continuation-token=t%2Bk%3D&max-keys=1000")
        #expect(transport.requests[0].method == "GET")
        #expect(transport.requests[0].header("x-amz-content-sha256") == SigV4Signer.emptyPayloadHash)
        #expect(transport.requests[0].header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEST/") == true)
    }

    @Test("a listing follows continuation tokens across pages")
    func continuation() async throws {
        let first = """
            <ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
            <NextContinuationToken>next</NextContinuationToken><Contents><Key>a</Key><Size>1</Size><ETag>"1"</ETag>\
            </Contents></ListBucketResult>
            """
        let second = """
            <ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
            <Contents><Key>b</Key><Size>2</Size><ETag>"2"</ETag></Contents></ListBucketResult>
            """
        let transport = ScriptedTransport([
            .respond(HTTPResponse(status: 200, body: Data(first.utf8))),
            .respond(HTTPResponse(status: 200, body: Data(second.utf8))),
        ])
        let all = try await makeStore(transport).listAll(prefix: "", delimiter: "/", pageSize: 1)
        #expect(all.objects.map(\.key.rawValue) == ["a", "b"])
        #expect(transport.requests.count == 2)
        #expect(transport.requests[1].url.contains("continuation-token=next"))
    }

    @Test("a ranged GET sends Range and If-Match and reads the size from Content-Range")
    func rangedGet() async throws {
        let transport = ScriptedTransport(
            status: 206, headers: ["content-range": "bytes 2-4/10", "content-length": "3", "etag": "\"e\""], body: "cde")
        let body = try await makeStore(transport).get(ObjectKey("k")!, range: ByteRange(offset: 2, count: 3), ifMatch: "\"e\"")
        #expect(transport.requests[0].header("Range") == "bytes=2-4")
        #expect(transport.requests[0].header("If-Match") == "\"e\"")
        #expect(body.data == Data("cde".utf8))
        #expect(body.info.size == 10)
    }

    @Test("a ranged GET answered with the whole object is sliced, and cut at the end")
    func rangeIgnored() async throws {
        let transport = ScriptedTransport(status: 200, headers: ["content-length": "10"], body: "0123456789")
        let body = try await makeStore(transport).get(ObjectKey("k")!, range: ByteRange(offset: 8, count: 5), ifMatch: nil)
        #expect(body.data == Data("89".utf8))
    }

    @Test("a HEAD reads size, ETag, dates, content type, storage class and lower-cased metadata")
    func head() async throws {
        let transport = ScriptedTransport(
            status: 200,
            headers: [
                "content-length": "434234", "etag": "\"fba9\"", "last-modified": "Mon, 12 Oct 2009 17:50:00 GMT",
                "content-type": "text/plain", "x-amz-meta-mode": "0644", "x-amz-meta-mtime": "1700000000",
            ])
        let info = try await makeStore(transport).head(ObjectKey("k")!)
        #expect(info.size == 434_234 && info.etag == "\"fba9\"" && info.contentType == "text/plain")
        #expect(info.lastModified == Date(timeIntervalSince1970: 1_255_369_800))
        #expect(info.storageClass == "STANDARD")
        #expect(info.metadata == ["mode": "0644", "mtime": "1700000000"])
        #expect(transport.requests[0].method == "HEAD")
    }

    @Test("a PUT sends its content type, metadata (non-ASCII percent-encoded), If-None-Match and body hash")
    func put() async throws {
        let transport = ScriptedTransport(status: 200, headers: ["etag": "\"new\""])
        let etag = try await makeStore(transport).put(
            ObjectKey("dir/f")!, body: Data("hello".utf8),
            attributes: ObjectAttributes(metadata: ["Mode": "0644", "note": "café"], contentType: "text/plain"),
            ifNoneMatch: true)
        let request = transport.requests[0]
        #expect(etag == "\"new\"")
        #expect(request.method == "PUT" && request.body == Data("hello".utf8))
        #expect(request.header("Content-Type") == "text/plain")
        #expect(request.header("x-amz-meta-mode") == "0644")
        #expect(request.header("x-amz-meta-note") == "caf%C3%A9")
        #expect(request.header("If-None-Match") == "*")
        #expect(request.header("x-amz-content-sha256") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    }

    @Test("a header value with a line break is refused before anything is sent")
    func crlfRefused() async {
        let transport = ScriptedTransport(status: 200)
        await #expect(throws: ObjectStoreError.self) {
            _ = try await makeStore(transport).put(
                ObjectKey("k")!, body: Data(), attributes: ObjectAttributes(metadata: ["x": "a\r\nInjected: 1"]),
                ifNoneMatch: false)
        }
        await #expect(throws: ObjectStoreError.self) {
            _ = try await makeStore(transport).get(ObjectKey("k")!, range: nil, ifMatch: "\"e\"\nX: y")
        }
        #expect(transport.requests.isEmpty)
    }

    @Test("a copy sends the encoded source, REPLACE with new metadata, and the source If-Match")
    func copy() async throws {
        let transport = ScriptedTransport(status: 200, body: "<CopyObjectResult><ETag>\"c\"</ETag></CopyObjectResult>")
        let etag = try await makeStore(transport).copy(
            from: ObjectKey("a b/é")!, to: ObjectKey("dst")!, attributes: ObjectAttributes(metadata: ["mode": "1"]),
            ifMatch: "\"s\"")
        let request = transport.requests[0]
        #expect(etag == "\"c\"")
        #expect(request.url == "http://127.0.0.1:8333/bucket/dst")
        #expect(request.header("x-amz-copy-source") == "/bucket/a%20b/%C3%A9")
        #expect(request.header("x-amz-metadata-directive") == "REPLACE")
        #expect(request.header("x-amz-meta-mode") == "1")
        #expect(request.header("x-amz-copy-source-if-match") == "\"s\"")
    }

    @Test("multipart calls use the uploads, partNumber and uploadId sub-resources")
    func multipart() async throws {
        let transport = ScriptedTransport([
            .respond(HTTPResponse(status: 200, body: Data("<InitiateMultipartUploadResult><UploadId>u/1</UploadId></InitiateMultipartUploadResult>".utf8))),
            .respond(HTTPResponse(status: 200, headers: ["etag": "\"p1\""])),
            .respond(HTTPResponse(status: 200, body: Data("<CopyPartResult><ETag>\"p2\"</ETag></CopyPartResult>".utf8))),
            .respond(HTTPResponse(status: 200, body: Data("<CompleteMultipartUploadResult><ETag>\"m-2\"</ETag></CompleteMultipartUploadResult>".utf8))),
        ])
        let store = makeStore(transport)
        let key = ObjectKey("big")!
        let id = try await store.createMultipartUpload(key, attributes: ObjectAttributes(contentType: "a/b"))
        let p1 = try await store.uploadPart(key, uploadID: id, partNumber: 1, body: Data("x".utf8))
        let p2 = try await store.uploadPartCopy(
            key, uploadID: id, partNumber: 2, source: ObjectKey("src")!, range: ByteRange(offset: 0, count: 100),
            ifMatch: nil)
        let etag = try await store.completeMultipartUpload(
            key, uploadID: id, parts: [CompletedPart(partNumber: 1, etag: p1), CompletedPart(partNumber: 2, etag: p2)])
        let r = transport.requests
        #expect(id == "u/1" && p1 == "\"p1\"" && p2 == "\"p2\"" && etag == "\"m-2\"")
        #expect(r[0].method == "POST" && r[0].url.hasSuffix("/bucket/big?uploads"))
        #expect(r[1].url.hasSuffix("/bucket/big?partNumber=1&uploadId=u%2F1"))
        #expect(r[2].header("x-amz-copy-source-range") == "bytes=0-99")
        #expect(r[3].method == "POST" && r[3].url.hasSuffix("/bucket/big?uploadId=u%2F1"))
        #expect(String(decoding: r[3].body, as: UTF8.self).contains("<PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag>"))
    }

    @Test("ListMultipartUploads follows key and upload-id markers until the last page")
    func multipartPagination() async throws {
        let first = """
            <ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>a</NextKeyMarker>\
            <NextUploadIdMarker>1</NextUploadIdMarker><Upload><Key>a</Key><UploadId>1</UploadId>\
            <Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>
            """
        let second = """
            <ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>b</Key><UploadId>2</UploadId>\
            <Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>
            """
        let transport = ScriptedTransport([
            .respond(HTTPResponse(status: 200, body: Data(first.utf8))),
            .respond(HTTPResponse(status: 200, body: Data(second.utf8))),
        ])
        let uploads = try await makeStore(transport).listMultipartUploads(prefix: "p/")
        #expect(uploads.map(\.uploadID) == ["1", "2"])
        #expect(transport.requests[0].url.hasSuffix("/bucket?uploads&encoding-type=url&prefix=p%2F"))
        #expect(transport.requests[1].url.hasSuffix("&key-marker=a&upload-id-marker=1"))
    }

    @Test("unsigned configurations send no Authorization header")
    func unsigned() async throws {
        let transport = ScriptedTransport(status: 200, headers: ["content-length": "0"])
        _ = try await makeStore(transport, credentials: nil).head(ObjectKey("k")!)
        #expect(transport.requests[0].header("Authorization") == nil)
    }

    @Test("statistics count requests by operation and status class, and bytes both ways")
    func statistics() async throws {
        let transport = ScriptedTransport([
            .respond(HTTPResponse(status: 200, headers: ["etag": "\"e\""])),
            .respond(HTTPResponse(status: 404)),
        ])
        let store = makeStore(transport)
        _ = try await store.put(ObjectKey("k")!, body: Data(count: 100), attributes: ObjectAttributes(), ifNoneMatch: false)
        _ = try? await store.head(ObjectKey("k")!)
        let snapshot = store.statistics.snapshot()
        #expect(snapshot.requestsByOperation == ["PutObject": 1, "HeadObject": 1])
        #expect(snapshot.responsesByStatusClass == ["2xx": 1, "4xx": 1])
        #expect(snapshot.bytesSent == 100)
    }
}
