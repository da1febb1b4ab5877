import Testing

/// The mount suites: the built `bucketfs` binary, mounted on fresh temporary folders against a real local S3 server
/// (SeaweedFS in `scripts/test`), exercised only with ordinary tools and syscalls from child processes.
///
/// Serialized because every suite shares one server and the request-count assertions need it quiet; disabled, with
/// the reason shown, when the environment lacks a piece ("mount tests are not skipped when required" catches that
/// in CI).
@Suite(
    "Mounted bucket", .serialized,
    .enabled(
        if: MountTestEnvironment.current != nil, Comment(rawValue: MountTestEnvironment.unavailableReason)))
struct MountTests {}

@Test("mount tests are not skipped when required")
func mountTestsAreNotSkippedWhenRequired() {
    guard MountTestEnvironment.isRequired else { return }
    #expect(
        MountTestEnvironment.missingPieces.isEmpty,
        "BUCKETFS_REQUIRE_MOUNT_TESTS=1 but \(MountTestEnvironment.unavailableReason)")
    #expect(
        MountTestEnvironment.variable("BUCKETFS_TEST_METRICS") != nil,
        "BUCKETFS_REQUIRE_MOUNT_TESTS=1 but BUCKETFS_TEST_METRICS is not set, so request-cost tests would be skipped")
}
