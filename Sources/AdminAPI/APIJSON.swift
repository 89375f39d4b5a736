import Foundation
import Hummingbird
import NIOCore

/// JSON conventions of the API: snake_case keys (declared by each type's CodingKeys), ISO 8601 UTC timestamps.
enum APIJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// A JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 204 No Content.
    static func noContent() -> Response { Response(status: .noContent) }
}

/// A JSON value as sent by a client, decoded strictly: a number is never a Boolean and vice versa.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A field that a PATCH may set, clear (JSON null) or leave alone (absent).
enum FieldUpdate<T> {
    case absent
    case null
    case value(T)

    var value: T? { if case .value(let v) = self { v } else { nil } }
}

extension FieldUpdate: Sendable where T: Sendable {}

/// Reads a JSON object request body field by field, collecting one message per bad field (wrong type, missing,
/// unknown), so a single 422 lists them all.
struct JSONBody {
    private let fields: [String: JSONValue]
    private var allowed: Set<String> = []
    private(set) var errors: [Problem.FieldError] = []

    /// Parses the whole body (already limited to the context's maximum size) as a JSON object.
    static func read(_ request: Request, context: some RequestContext) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try JSONBody(bytes: Data(buffer: buffer))
    }

    init(bytes: Data) throws(Problem) {
        guard !bytes.isEmpty else { throw Problem.badRequest("the request body must be a JSON object") }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: bytes)
        } catch {
            throw Problem.badRequest("the request body is not valid JSON")
        }
        guard case .object(let object) = value else { throw Problem.badRequest("the request body must be a JSON object") }
        fields = object
    }

    mutating func raw(_ name: String) -> JSONValue? {
        allowed.insert(name)
        return fields[name]
    }

    private mutating func fail(_ name: String, _ message: String) { errors.append(.init(field: name, message: message)) }

    /// A required non-empty string of at most `maxLength` UTF-8 bytes.
    mutating func requiredString(_ name: String, maxLength: Int = 256) -> String {
        switch raw(name) {
        case nil, .null?: fail(name, "is required"); return ""
        case .string(let s)?:
            if s.isEmpty { fail(name, "must not be empty") } else if s.utf8.count > maxLength { fail(name, "must be at most \(maxLength) bytes") }
            return s
        case let v?: fail(name, "must be a string, not \(v.typeName)"); return ""
        }
    }

    /// An optional string: absent, null, or a value of at most `maxLength` bytes.
    mutating func string(_ name: String, maxLength: Int = 256, allowEmpty: Bool = true) -> FieldUpdate<String> {
        switch raw(name) {
        case nil: return .absent
        case .null?: return .null
        case .string(let s)?:
            if s.utf8.count > maxLength { fail(name, "must be at most \(maxLength) bytes") }
            if !allowEmpty && s.isEmpty { fail(name, "must not be empty") }
            return .value(s)
        case let v?: fail(name, "must be a string, not \(v.typeName)"); return .absent
        }
    }

    mutating func bool(_ name: String) -> FieldUpdate<Bool> {
        switch raw(name) {
        case nil: return .absent
        case .null?: return .null
        case .bool(let b)?: return .value(b)
        case let v?: fail(name, "must be a boolean, not \(v.typeName)"); return .absent
        }
    }

    /// An optional integer in `range`.
    mutating func int(_ name: String, in range: ClosedRange<Int> = 0...1_000_000_000) -> FieldUpdate<Int> {
        switch raw(name) {
        case nil: return .absent
        case .null?: return .null
        case .number(let d)?:
            guard d.rounded() == d, d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
                fail(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
                return .absent
            }
            return .value(Int(d))
        case let v?: fail(name, "must be an integer, not \(v.typeName)"); return .absent
        }
    }

    /// Fields that must not be null when present (PATCH of a non-nullable field).
    mutating func notNull<T>(_ name: String, _ update: FieldUpdate<T>) -> FieldUpdate<T> {
        if case .null = update { fail(name, "must not be null"); return .absent }
        return update
    }

    mutating func addError(_ field: String, _ message: String) { fail(field, message) }

    /// Throws a 422 listing every bad field, including fields the endpoint does not know.
    mutating func finish() throws(Problem) {
        for key in fields.keys.sorted() where !allowed.contains(key) { fail(key, "is not a known field") }
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
