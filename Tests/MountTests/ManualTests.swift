import Foundation
import Testing

extension MountTests {
    /// bucketfs(1) and `--help` describe the same command.
    @Suite("Manual page")
    struct ManualTests {
        /// The long options (`--name`) in `text`.
        static func longOptions(_ text: String, pattern: String) throws -> Set<String> {
            let regex = try Regex(pattern)
            return Set(text.matches(of: regex).compactMap { match in match.output[1].substring.map { "--" + $0 } })
        }

        @Test("every long option of `bucketfs mount --help` is in the man page's OPTIONS, and no other")
        func manualMatchesHelp() async throws {
            let environment = try #require(MountTestEnvironment.current, Comment(rawValue: MountTestEnvironment.unavailableReason))
            let help = try await Command.run([environment.binary, "mount", "--help"], timeout: .seconds(30))
            #expect(help.succeeded, "\(help.summary)")
            let fromHelp = try Self.longOptions(help.output, pattern: #"(?:^|[\s,])--([a-z][a-z-]+)"#)
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let manual = try String(contentsOf: root.appendingPathComponent("man/bucketfs.1"), encoding: .utf8)
            let start = try #require(manual.range(of: "\n.Sh OPTIONS\n"), "the man page has no OPTIONS section")
            let rest = manual[start.upperBound...]
            let options = String(rest[..<(rest.range(of: "\n.Sh ")?.lowerBound ?? rest.endIndex)])
            let fromManual = try Self.longOptions(options, pattern: #"Fl -([a-z][a-z-]+)"#)
            #expect(fromHelp.count > 10, "parsed only \(fromHelp.sorted()) from --help")
            #expect(
                fromHelp.subtracting(fromManual).isEmpty, "in --help, not in bucketfs(1): \(fromHelp.subtracting(fromManual).sorted())")
            #expect(
                fromManual.subtracting(fromHelp).isEmpty, "in bucketfs(1), not in --help: \(fromManual.subtracting(fromHelp).sorted())")
        }
    }
}
