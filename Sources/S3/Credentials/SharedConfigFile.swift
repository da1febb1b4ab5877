import Foundation

/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`, read as the AWS CLI reads it.
///
/// Sections are `[name]` (spaces around the name ignored); settings are `key = value` with keys lower-cased;
/// whole-line comments start with `#` or `;`, and so do inline comments after whitespace. Indented lines under a
/// setting with an empty value (`s3 =` then `  addressing_style = path`) are nested settings and are skipped, so
/// they never override top-level ones. Lines that fit none of these are ignored rather than fatal.
struct SharedConfigFile: Sendable, Equatable {
    /// Settings by section name, then by lower-cased key.
    var sections: [String: [String: String]]

    init(parsing text: String) {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var inNestedBlock = false
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let indented = raw.first == " " || raw.first == "\t"
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { continue }
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                current = name
                inNestedBlock = false
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let equals = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                continue
            }
            if indented && inNestedBlock { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = Self.strippingInlineComment(line[line.index(after: equals)...])
            guard !key.isEmpty else { continue }
            inNestedBlock = value.isEmpty
            if !value.isEmpty { sections[section]?[key] = value }
        }
        self.sections = sections
    }

    /// The file at `path`, or nil when there is none.
    /// - Throws: `CredentialError.unreadableFile` when it exists but cannot be read as UTF-8.
    static func load(path: String, displayPath: String) throws(CredentialError) -> SharedConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw .unreadableFile(path: displayPath) }
        return SharedConfigFile(parsing: text)
    }

    private static func strippingInlineComment(_ value: Substring) -> String {
        var previous: Character = " "
        var end = value.endIndex
        for index in value.indices {
            let character = value[index]
            if (character == "#" || character == ";") && (previous == " " || previous == "\t") {
                end = index
                break
            }
            previous = character
        }
        return value[..<end].trimmingCharacters(in: .whitespaces)
    }
}
