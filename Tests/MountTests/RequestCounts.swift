import Foundation

/// The server's S3 request counters for one bucket, summed over status codes, keyed by type (`GET`, `PUT`, `LIST`…).
///
/// SeaweedFS counts HEAD requests as `GET`, so "GETs" below means GET plus HEAD object requests.
struct RequestCounts: Sendable, CustomStringConvertible {
    let byType: [String: Int]

    subscript(type: String) -> Int { byType[type] ?? 0 }

    /// The requests made between `earlier` and `self`.
    static func - (later: RequestCounts, earlier: RequestCounts) -> RequestCounts {
        RequestCounts(byType: later.byType.merging(earlier.byType.mapValues { -$0 }) { $0 + $1 }.filter { $0.value != 0 })
    }

    var description: String {
        byType.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// Reads the counters from the Prometheus page at `url`, waiting until two reads agree (the server may count a
    /// request a moment after it answered it).
    static func read(bucket: String, from url: String) async throws -> RequestCounts {
        var previous = try await readOnce(bucket: bucket, from: url)
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(150))
            let current = try await readOnce(bucket: bucket, from: url)
            if current.byType == previous.byType { return current }
            previous = current
        }
        return previous
    }

    private static func readOnce(bucket: String, from url: String) async throws -> RequestCounts {
        let result = try await Command.run(["curl", "-sS", "--max-time", "10", url], timeout: .seconds(15))
        guard result.succeeded else { throw SeedingError.failed(result.summary) }
        return parse(result.output, bucket: bucket)
    }

    /// Sums lines like `SeaweedFS_s3_request_total{bucket="B",code="200",type="GET"} 12` for `bucket`.
    static func parse(_ page: String, bucket: String) -> RequestCounts {
        var counts: [String: Int] = [:]
        for line in page.split(separator: "\n") where line.hasPrefix("SeaweedFS_s3_request_total{") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            var labels: [String: String] = [:]
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            let value = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            guard labels["bucket"] == bucket, let type = labels["type"], let number = Double(value) else { continue }
            counts[type, default: 0] += Int(number)
        }
        return RequestCounts(byType: counts)
    }
}
