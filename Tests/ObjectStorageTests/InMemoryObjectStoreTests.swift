import Foundation
import ObjectStorage
import Testing

@Suite("In-memory object store")
struct InMemoryObjectStoreTests {
    @Test("a delimited listing rolls keys up into common prefixes, in UTF-8 order, across pages")
    func delimitedListing() async throws {
        let store = InMemoryObjectStore()
        for key in ["a/b/c", "a/b/d", "a/e", "a/f/", "b", "a/é", "a/z"] { store.seed(key, Data("x".utf8)) }
        var names: [String] = []
        var token: String? = nil
        repeat {
            let page = try await store.list(prefix: "a/", delimiter: "/", continuationToken: token, maxKeys: 2)
            names += page.objects.map(\.key.rawValue) + page.commonPrefixes
            token = page.continuationToken
        } while token != nil
        #expect(names.sorted() == ["a/b/", "a/e", "a/f/", "a/z", "a/é"].sorted())
        #expect(store.count(.list) == 3)
    }

    @Test("a ranged GET with a stale If-Match fails with preconditionFailed")
    func ifMatch() async throws {
        let store = InMemoryObjectStore()
        let etag = store.seed("k", Data(repeating: 7, count: 10))
        let body = try await store.get(ObjectKey("k")!, range: ByteRange(offset: 2, count: 3), ifMatch: etag)
        #expect(body.data == Data(repeating: 7, count: 3))
        store.seed("k", Data(repeating: 8, count: 10))
        await #expect(throws: ObjectStoreError.preconditionFailed(key: "k")) {
            _ = try await store.get(ObjectKey("k")!, range: ByteRange(offset: 0, count: 1), ifMatch: etag)
        }
    }

    @Test("keys over 1,024 bytes and empty keys are refused")
    func keyLimits() {
        #expect(ObjectKey("") == nil)
        #expect(ObjectKey(String(repeating: "a", count: 1025)) == nil)
        #expect(ObjectKey(String(repeating: "a", count: 1024)) != nil)
    }
}
