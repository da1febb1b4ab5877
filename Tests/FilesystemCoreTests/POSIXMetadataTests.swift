import FilesystemCore
import Testing

@Suite("s3fs-compatible metadata")
struct POSIXMetadataTests {
    @Test("mtime parses integers and fractions, padding short fractions to nine digits")
    func parseTimes() {
        #expect(POSIXMetadata.parseTime("1700000000") == Timestamp(seconds: 1_700_000_000))
        #expect(POSIXMetadata.parseTime("1.5") == Timestamp(seconds: 1, nanoseconds: 500_000_000))
        #expect(POSIXMetadata.parseTime("1.000000001") == Timestamp(seconds: 1, nanoseconds: 1))
        #expect(POSIXMetadata.parseTime("-5") == Timestamp(seconds: -5))
        #expect(POSIXMetadata.parseTime("1.") == nil)
        #expect(POSIXMetadata.parseTime("abc") == nil)
    }

    @Test("times are written as seconds.nanoseconds with nine digits")
    func formatTimes() {
        #expect(POSIXMetadata.format(Timestamp(seconds: 12, nanoseconds: 5)) == "12.000000005")
        #expect(POSIXMetadata.format(Timestamp(seconds: 12, nanoseconds: 0)) == "12.000000000")
    }

    @Test("the mode's type bits name files, directories and symlinks")
    func kinds() {
        #expect(POSIXMetadata(metadata: ["mode": "33188"]).kind == .file)
        #expect(POSIXMetadata(metadata: ["mode": "16877"]).kind == .directory)
        #expect(POSIXMetadata(metadata: ["mode": "41471"]).kind == .symlink)
        #expect(POSIXMetadata(metadata: ["mode": "x"]).malformed == ["mode"])
    }
}
