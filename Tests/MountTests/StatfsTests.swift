import Foundation
import Testing

extension MountTests {
    /// statfs(2): what `df` and `stat -f` see.
    @Suite("statfs")
    struct StatfsTests {
        @Test("stat -f shows 4 KiB blocks, 1 PiB total and free, 2^32 inodes and 255-byte names; df agrees", .timeLimit(.minutes(2)))
        func statfsFigures() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                let stat = try await Command.run(["stat", "-f", "-c", "%s %S %b %f %a %c %d %l", mount.path()], timeout: .seconds(30))
                try mount.check(stat)
                let blocks = (1 << 50) / 4096
                let inodes = 1 << 32
                #expect(
                    stat.output.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "4096 4096 \(blocks) \(blocks) \(blocks) \(inodes) \(inodes) 255",
                    "stat -f printed \(stat.output)")
                let df = try await Command.run(["df", "-B1", "--output=size,avail", mount.path()], timeout: .seconds(30))
                try mount.check(df)
                let figures = df.output.split(separator: "\n").last?.split(separator: " ").map(String.init) ?? []
                #expect(figures == ["\(1 << 50)", "\(1 << 50)"], "df printed \(df.output)")
            }
        }
    }
}
