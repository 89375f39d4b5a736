import Foundation
import Store

/// The CSV format of extension import and export (RFC 4180: comma-separated, `"` quoting with `""` inside,
/// CRLF or LF line ends, a header row naming the columns in any order).
///
/// Columns: `number` (required), `display_name`, `email`, `outbound_caller_id`, `enabled`, `record_calls`,
/// `allow_external_calls` (`true`/`false`, also `1`/`0`, `yes`/`no`; empty means the default), `sip_password`
/// (required on import), `web_password` (optional). Export writes every column with the password columns
/// empty: passwords are never returned, and the file is a template for a new import.
enum ExtensionCSV {
    static let columns = ["number", "display_name", "email", "outbound_caller_id", "enabled", "record_calls",
                          "allow_external_calls", "sip_password", "web_password"]

    /// One parsed row with its 1-based line number in the file.
    struct Row {
        var line: Int
        var number: String
        var sipPassword: String
        var webPassword: String?
        var settings: ExtensionSettings
    }

    /// Splits CSV text into records of fields, with the line each record starts on. Returns nil on an
    /// unterminated quote.
    static func records(_ text: String) -> [(line: Int, fields: [String])]? {
        var result: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1, recordLine = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }  // a BOM from spreadsheet exports
        var i = chars.startIndex
        func endRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) { result.append((recordLine, fields)) }
            fields = []
        }
        while i < chars.endIndex {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if chars.index(after: i) < chars.endIndex, chars[chars.index(after: i)] == "\"" {
                        field.unicodeScalars.append("\"")
                        i = chars.index(after: i)
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                inQuotes = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else if c == "\r" {
                // CR LF or a lone CR end the record.
            } else if c == "\n" {
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            i = chars.index(after: i)
        }
        if inQuotes { return nil }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return result
    }

    /// Parses an import file into rows, or the field errors of every bad row (`rows[LINE].column`).
    static func parse(_ text: String) -> (rows: [Row], errors: [Problem.FieldError]) {
        guard let records = records(text) else {
            return ([], [.init(field: "body", message: "unterminated quoted field")])
        }
        guard let header = records.first else { return ([], [.init(field: "body", message: "the file has no header row")]) }
        var errors: [Problem.FieldError] = []
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for n in names where !columns.contains(n) { errors.append(.init(field: "header", message: "unknown column \"\(n)\"")) }
        if !names.contains("number") { errors.append(.init(field: "header", message: "the column \"number\" is required")) }
        if !names.contains("sip_password") { errors.append(.init(field: "header", message: "the column \"sip_password\" is required")) }
        if Set(names).count != names.count { errors.append(.init(field: "header", message: "a column is named twice")) }
        if !errors.isEmpty { return ([], errors) }

        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            let at = "rows[\(record.line)]"
            guard record.fields.count == names.count else {
                errors.append(.init(field: at, message: "has \(record.fields.count) fields, the header has \(names.count)"))
                continue
            }
            var values: [String: String] = [:]
            for (n, v) in zip(names, record.fields) { values[n] = v }
            func text(_ n: String) -> String? { values[n].flatMap { $0.isEmpty ? nil : $0 } }
            func flag(_ n: String, _ def: Bool) -> Bool {
                guard let v = text(n)?.lowercased() else { return def }
                switch v {
                case "true", "1", "yes": return true
                case "false", "0", "no": return false
                default:
                    errors.append(.init(field: "\(at).\(n)", message: "must be true or false, not \"\(v)\""))
                    return def
                }
            }
            let number = values["number"] ?? ""
            if number.isEmpty {
                errors.append(.init(field: "\(at).number", message: "is required"))
            } else if !TandemStore.isValidExtensionNumber(number) {
                errors.append(.init(field: "\(at).number", message: "must be 1–32 letters, digits or . - _ +"))
            } else if let first = seen[number] {
                errors.append(.init(field: "\(at).number", message: "repeats the number of line \(first)"))
            } else {
                seen[number] = record.line
            }
            let sip = values["sip_password"] ?? ""
            if sip.isEmpty { errors.append(.init(field: "\(at).sip_password", message: "is required")) }
            for n in ["display_name", "email", "outbound_caller_id", "sip_password", "web_password"] where (values[n]?.utf8.count ?? 0) > 256 {
                errors.append(.init(field: "\(at).\(n)", message: "must be at most 256 bytes"))
            }
            let settings = ExtensionSettings(displayName: values["display_name"] ?? "", email: text("email"),
                                             outboundCallerID: text("outbound_caller_id"), isEnabled: flag("enabled", true),
                                             recordsCalls: flag("record_calls", false),
                                             allowsExternalCalls: flag("allow_external_calls", false))
            rows.append(Row(line: record.line, number: number, sipPassword: sip, webPassword: text("web_password"), settings: settings))
        }
        return (rows, errors)
    }

    /// The export file of `extensions`.
    static func export(_ extensions: [Extension]) -> String {
        var out = columns.joined(separator: ",") + "\r\n"
        for e in extensions {
            let fields = [e.number, e.displayName, e.email ?? "", e.outboundCallerID ?? "", String(e.isEnabled),
                          String(e.recordsCalls), String(e.allowsExternalCalls), "", ""]
            out += fields.map(quote).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
