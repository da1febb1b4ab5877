import Foundation

/// A small XML reader and writer for the documents S3 exchanges: elements, text, the five named entities, numeric
/// character references, CDATA, comments and processing instructions. Attributes are skipped and namespace prefixes
/// dropped, because S3 responses carry their data in element text only. DTDs are refused (no entity expansion).
public enum S3XML {
    /// Why a document could not be read.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case unexpectedEnd
        case malformed(offset: Int, reason: String)
        case mismatchedTag(expected: String, found: String)
        case missingElement(String)

        public var description: String {
            switch self {
            case .unexpectedEnd: "XML ended early"
            case .malformed(let offset, let reason): "XML malformed at byte \(offset): \(reason)"
            case .mismatchedTag(let expected, let found): "XML closes <\(found)> where <\(expected)> was open"
            case .missingElement(let name): "XML lacks <\(name)>"
            }
        }
    }

    /// One element: its local name, its own text (entities decoded, concatenated) and its child elements.
    public struct Element: Sendable, Hashable {
        public var name: String
        public var text: String
        public var children: [Element]

        public init(name: String, text: String = "", children: [Element] = []) {
            self.name = name
            self.text = text
            self.children = children
        }

        /// The first child called `name`.
        public func child(_ name: String) -> Element? { children.first { $0.name == name } }

        /// Every child called `name`, in document order.
        public func children(named name: String) -> [Element] { children.filter { $0.name == name } }

        /// The text of the first child called `name`.
        public func string(_ name: String) -> String? { child(name)?.text }
    }

    /// Parses `data` and returns its root element.
    public static func parse(_ data: Data) throws(ParseError) -> Element {
        var reader = Reader(bytes: Array(data))
        return try reader.document()
    }

    /// `text` escaped for element content or an attribute value.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// A recursive-descent reader over the bytes of one document.
private struct Reader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(S3XML.ParseError) -> S3XML.Element {
        // Skip a UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        try skipMisc()
        guard index < bytes.count else { throw .unexpectedEnd }
        let root = try element()
        try skipMisc()
        return root
    }

    /// Whitespace, comments and processing instructions between elements.
    mutating func skipMisc() throws(S3XML.ParseError) {
        while true {
            while index < bytes.count, isSpace(bytes[index]) { index += 1 }
            if starts("<?") {
                try skip(past: "?>")
            } else if starts("<!--") {
                try skip(past: "-->")
            } else if starts("<!DOCTYPE") || starts("<!doctype") {
                throw .malformed(offset: index, reason: "DTDs are not accepted")
            } else {
                return
            }
        }
    }

    mutating func element() throws(S3XML.ParseError) -> S3XML.Element {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else {
            throw .malformed(offset: index, reason: "expected '<'")
        }
        index += 1
        let qualified = try name()
        var element = S3XML.Element(name: localName(qualified))
        // Attributes: skipped, with quoted values that may contain '>'.
        while true {
            guard index < bytes.count else { throw .unexpectedEnd }
            let byte = bytes[index]
            if byte == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") else {
                    throw .malformed(offset: index, reason: "expected '/>'")
                }
                index += 2
                return element
            } else if byte == UInt8(ascii: ">") {
                index += 1
                break
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index += 1
                while index < bytes.count, bytes[index] != byte { index += 1 }
                guard index < bytes.count else { throw .unexpectedEnd }
                index += 1
            } else {
                index += 1
            }
        }
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw .unexpectedEnd }
            if bytes[index] != UInt8(ascii: "<") {
                try characterData(into: &text)
            } else if starts("</") {
                index += 2
                let closing = try name()
                while index < bytes.count, isSpace(bytes[index]) { index += 1 }
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw .unexpectedEnd }
                index += 1
                guard closing == qualified else { throw .mismatchedTag(expected: qualified, found: closing) }
                element.text = String(decoding: text, as: UTF8.self)
                return element
            } else if starts("<![CDATA[") {
                index += 9
                let start = index
                try skip(past: "]]>")
                text += bytes[start..<index - 3]
            } else if starts("<!--") || starts("<?") {
                try skipMisc()
            } else {
                element.children.append(try self.element())
            }
        }
    }

    /// Text up to the next '<', entities decoded.
    mutating func characterData(into text: inout [UInt8]) throws(S3XML.ParseError) {
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                text.append(byte)
                index += 1
                continue
            }
            let start = index
            guard let end = bytes[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw .malformed(offset: start, reason: "unterminated entity")
            }
            let entity = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            index = end + 1
            switch entity {
            case "amp": text.append(UInt8(ascii: "&"))
            case "lt": text.append(UInt8(ascii: "<"))
            case "gt": text.append(UInt8(ascii: ">"))
            case "quot": text.append(UInt8(ascii: "\""))
            case "apos": text.append(UInt8(ascii: "'"))
            default:
                let scalarValue: UInt32? =
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        UInt32(entity.dropFirst(), radix: 10)
                    } else {
                        nil
                    }
                guard let scalarValue, let scalar = Unicode.Scalar(scalarValue) else {
                    throw .malformed(offset: start, reason: "unknown entity &\(entity);")
                }
                text += Array(String(Character(scalar)).utf8)
            }
        }
    }

    mutating func name() throws(S3XML.ParseError) -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if isSpace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=") {
                break
            }
            index += 1
        }
        guard index > start else { throw .malformed(offset: start, reason: "expected a name") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    func localName(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }

    func starts(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { buffer in
            for offset in 0..<count where bytes[index + offset] != buffer[offset] { return false }
            return true
        }
    }

    mutating func skip(past literal: StaticString) throws(S3XML.ParseError) {
        while index < bytes.count {
            if starts(literal) {
                index += literal.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw .unexpectedEnd
    }

    func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
