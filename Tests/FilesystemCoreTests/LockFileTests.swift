import FilesystemCore
import Foundation
import ObjectStorage
import Testing

@Suite("Lock files")
struct LockFileTests {
    let caller = Caller(uid: 1000, gid: 1000)

    @Test(
        "a file created with O_EXCL and renamed onto an existing file before its upload replaces it (git's lock files)")
    func exclusiveLockFileRenamedOntoTarget() async throws {
        let (fs, store) = makeFilesystem {
            $0.spoolDirectory = NSTemporaryDirectory()
            $0.uploadDelay = .seconds(5)
        }
        store.seed("HEAD", Data("old\n".utf8))
        _ = try await fs.walk("HEAD")
        let (_, opened) = try await fs.create("HEAD.lock", in: .root, mode: 0o644, exclusive: true, caller: caller)
        _ = try await fs.write(opened.handle, offset: 0, data: Data("new\n".utf8))
        try await fs.release(opened.handle)
        try await fs.rename("HEAD.lock", in: .root, to: "HEAD", in: .root, noReplace: false, exchange: false)
        try await fs.syncAll()
        #expect(store.contents(of: "HEAD") == Data("new\n".utf8))
        #expect(store.keys == ["HEAD"])
    }
}
