import Foundation
import Testing

extension MountTests.WriteTests {
    @Test(
        "cp of 12 files of 3 MiB into a mount with --cache-size 8M waits for uploads and lands every file byte-exact",
        .timeLimit(.minutes(5)))
    func spoolCapMakesWritersWait() async {
        await MountFixture.run { fixture in
            let sources = try fixture.directory("sources")
            let names = (0..<12).map { "part-\($0).bin" }
            var digests: [String: String] = [:]
            for (index, name) in names.enumerated() {
                let url = sources.appendingPathComponent(name)
                try await Reference.writeRandomFile(size: 3 << 20, seed: 300 + index, to: url)
                digests[name] = try await Reference.sha256(of: url)
            }
            let mount = try await fixture.mount(["--cache-size", "8M"])
            _ = try await Self.shell(
                "cd \"$0\" && target=$1 && shift && cp -- \"$@\" \"$target\"",
                [sources.path, mount.path()] + names, on: mount, timeout: .seconds(240))
            try await mount.fsync(names)
            let stored = try await fixture.bucket.stored(names)
            for name in names {
                let object = stored[name] ?? nil
                #expect(
                    object?.size == 3 << 20, "\(name) has \(object?.size ?? -1) bytes in the bucket\n\(mount.logTail)")
                #expect(object?.sha256 == digests[name], "\(name) in the bucket differs from what cp wrote")
            }
            let log = (try? String(contentsOf: mount.logFile, encoding: .utf8)) ?? ""
            #expect(log.contains("spool full, writers wait for uploads"), "cp never waited\n\(mount.logTail)")
            #expect(log.contains("spool has room, writers resume"), "waiting writers never resumed\n\(mount.logTail)")
            #expect(!log.contains("spool over its cap"), "closed files were there to wait for\n\(mount.logTail)")
        }
    }
}
