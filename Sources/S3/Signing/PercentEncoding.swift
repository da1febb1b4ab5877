/// Percent-encoding as SigV4 and S3 define it: every byte but the RFC 3986 unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// becomes `%XY` with upper-case hex digits.
enum PercentEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Encodes every byte of `string` but the unreserved ones (and `/` when `keepingSlashes`).
    static func encode(_ string: String, keepingSlashes: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepingSlashes && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An object key as a URL path: each `/`-separated segment encoded, and the segments `.` and `..` written as
    /// `%2E` escapes so that no HTTP client or proxy resolves them as dot segments (RFC 3986 §5.2.4).
    static func encodeKeyPath(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            switch segment {
            case ".": "%2E"
            case "..": "%2E%2E"
            default: encode(String(segment))
            }
        }.joined(separator: "/")
    }

    /// Decodes `%XY` escapes (and, with `plusIsSpace`, `+` as a space, as S3's `encoding-type=url` writes it).
    /// A malformed escape is kept as it is; invalid UTF-8 becomes U+FFFD.
    static func decode(_ string: some StringProtocol, plusIsSpace: Bool = false) -> String {
        let bytes = Array(string.utf8)
        guard bytes.contains(UInt8(ascii: "%")) || (plusIsSpace && bytes.contains(UInt8(ascii: "+"))) else {
            return String(string)
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
