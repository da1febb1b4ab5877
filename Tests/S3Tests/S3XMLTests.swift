import Foundation
import ObjectStorage
import Testing

@testable import S3

@Suite("S3 XML")
struct S3XMLTests {
    @Test("entities, numeric references, CDATA and comments decode into element text")
    func entities() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment --><R a="x>y"><T>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#65;&#x42;&#x00E9;</T>\
            <C><![CDATA[<raw & text>]]></C><E/></R>
            """
        let root = try S3XML.parse(Data(xml.utf8))
        #expect(root.name == "R")
        #expect(root.string("T") == "a & b <c> \"d\" 'e' ABé")
        #expect(root.string("C") == "<raw & text>")
        #expect(root.string("E") == "")
    }

    @Test("a mismatched closing tag, an unknown entity and a DTD are refused")
    func refusals() {
        #expect(throws: S3XML.ParseError.mismatchedTag(expected: "a", found: "b")) {
            try S3XML.parse(Data("<a></b>".utf8))
        }
        #expect(throws: S3XML.ParseError.self) { try S3XML.parse(Data("<a>&bogus;</a>".utf8)) }
        #expect(throws: S3XML.ParseError.self) { try S3XML.parse(Data("<!DOCTYPE x><a/>".utf8)) }
        #expect(throws: S3XML.ParseError.unexpectedEnd) { try S3XML.parse(Data("<a><b>".utf8)) }
    }

    @Test("a ListObjectsV2 page with encoding-type=url decodes keys and prefixes, and keeps the token")
    func listPage() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>bucket</Name><Prefix>dir%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
              <Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
              <Contents><Key>dir/a+b%2Bc%25d</Key><LastModified>2009-10-12T17:50:00.000Z</LastModified>
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
                <StorageClass>STANDARD</StorageClass></Contents>
              <Contents><Key>dir/%C3%A9t%C3%A9</Key><LastModified>2009-10-12T17:50:00Z</LastModified>
                <ETag>&quot;x&quot;</ETag><Size>0</Size><StorageClass>GLACIER</StorageClass></Contents>
              <CommonPrefixes><Prefix>dir/sub+dir%2F</Prefix></CommonPrefixes>
            </ListBucketResult>
            """
        let page = try S3XML.listPage(from: Data(xml.utf8))
        #expect(page.objects.map(\.key.rawValue) == ["dir/a b+c%d", "dir/été"])
        #expect(page.objects[0].etag == "\"fba9dede5f27731c9771645a39863328\"")
        #expect(page.objects[0].size == 434_234)
        #expect(page.objects[0].lastModified == Date(timeIntervalSince1970: 1_255_369_800))
        #expect(page.objects[1].storageClass == "GLACIER")
        #expect(page.commonPrefixes == ["dir/sub dir/"])
        #expect(page.continuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test("a listing without EncodingType keeps keys as written, and the last page has no token")
    func plainListing() throws {
        let xml = """
            <ListBucketResult><IsTruncated>false</IsTruncated>\
            <Contents><Key>a%20b+c</Key><Size>1</Size><ETag>"e"</ETag></Contents></ListBucketResult>
            """
        let page = try S3XML.listPage(from: Data(xml.utf8))
        #expect(page.objects.map(\.key.rawValue) == ["a%20b+c"])
        #expect(page.continuationToken == nil)
    }

    @Test("an Error document yields its code and message, and other documents yield none")
    func errorDocument() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message>\
            <Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """
        let error = S3XML.error(from: Data(xml.utf8))
        #expect(error?.code == "NoSuchKey")
        #expect(error?.message == "The resource you requested does not exist")
        #expect(error?.requestID == "4442587FB7D0A2F9")
        #expect(S3XML.error(from: Data("<ListBucketResult/>".utf8)) == nil)
        #expect(S3XML.error(from: Data()) == nil)
    }

    @Test("multipart results: the upload id, the ETag of a completion, and an Error inside a 200")
    func multipartResults() throws {
        let initiate = """
            <InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>\
            <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\
            </InitiateMultipartUploadResult>
            """
        #expect(try S3XML.uploadID(from: Data(initiate.utf8)) == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
        let complete = """
            <CompleteMultipartUploadResult><Location>http://b/k</Location><Bucket>b</Bucket><Key>k</Key>\
            <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>
            """
        #expect(
            try S3XML.etagResult(from: Data(complete.utf8), rootName: "CompleteMultipartUploadResult")
                == .success("\"3858f62230ac3c915f300c664312c11f-9\""))
        let failed = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
        #expect(
            try S3XML.etagResult(from: Data(failed.utf8), rootName: "CopyObjectResult")
                == .failure(S3ErrorResponse(code: "InternalError", message: "We encountered an internal error.")))
        let copy = "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified><ETag>\"p\"</ETag></CopyPartResult>"
        #expect(try S3XML.etagResult(from: Data(copy.utf8), rootName: "CopyPartResult") == .success("\"p\""))
    }

    @Test("a ListMultipartUploads page decodes keys and reports its markers")
    func multipartUploads() throws {
        let xml = """
            <ListMultipartUploadsResult><Bucket>b</Bucket><EncodingType>url</EncodingType>\
            <NextKeyMarker>my%20movie.m2ts</NextKeyMarker><NextUploadIdMarker>YW55IGlk</NextUploadIdMarker>\
            <IsTruncated>true</IsTruncated>\
            <Upload><Key>my%20divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>\
            <Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>
            """
        let page = try S3XML.multipartUploadPage(from: Data(xml.utf8))
        #expect(page.uploads.map(\.key.rawValue) == ["my divisor"])
        #expect(page.uploads[0].uploadID == "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw")
        #expect(page.isTruncated && page.nextKeyMarker == "my movie.m2ts" && page.nextUploadIDMarker == "YW55IGlk")
    }

    @Test("the CompleteMultipartUpload body lists every part and escapes the ETags")
    func completeBody() throws {
        let body = S3XML.completeMultipartUploadBody([
            CompletedPart(partNumber: 1, etag: "\"a\""), CompletedPart(partNumber: 2, etag: "<&>"),
        ])
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("<Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>"))
        #expect(text.contains("<ETag>&lt;&amp;&gt;</ETag>"))
        let parsed = try S3XML.parse(body)
        #expect(parsed.children(named: "Part").map { $0.string("ETag") } == ["\"a\"", "<&>"])
    }

    @Test("HTTP and ISO 8601 dates parse to the same instant")
    func dates() {
        #expect(UTCTimestamp.parseHTTPDate("Mon, 12 Oct 2009 17:50:00 GMT") == Date(timeIntervalSince1970: 1_255_369_800))
        #expect(UTCTimestamp.parseISO8601("2009-10-12T17:50:00.000Z") == Date(timeIntervalSince1970: 1_255_369_800))
        #expect(UTCTimestamp.amzDate(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(UTCTimestamp.parseHTTPDate("garbage") == nil)
    }
}
