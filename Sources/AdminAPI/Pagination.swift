import Foundation
import Hummingbird

/// A page of a list: `items`, and `next_cursor` when more follow (pass it back as `cursor`).
struct Page<Item: Encodable>: Encodable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(nextCursor, forKey: .nextCursor)  // always present, null on the last page
    }
}

/// `limit` (1–500, default 100) and `cursor` (opaque: the sort key of the last item seen) of a list request.
struct PageRequest {
    static let defaultLimit = 100
    static let maximumLimit = 500

    var limit: Int
    var after: String?

    init(_ request: Request) throws(Problem) {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        limit = Self.defaultLimit
        if let raw = query.get("limit") {
            if let n = Int(raw), (1...Self.maximumLimit).contains(n) { limit = n } else {
                errors.append(.init(field: "limit", message: "must be an integer from 1 to \(Self.maximumLimit)"))
            }
        }
        after = nil
        if let raw = query.get("cursor") {
            if let bytes = Base64URL.decode(raw), let key = String(bytes: bytes, encoding: .utf8), key.hasPrefix("k:") {
                after = String(key.dropFirst(2))
            } else {
                errors.append(.init(field: "cursor", message: "is not a cursor this API returned"))
            }
        }
        if !errors.isEmpty { throw Problem(status: .badRequest, type: "bad-query", title: "Bad query parameters", errors: errors) }
    }

    /// For lists paged in the store by a row sequence number (CDRs, recordings): the sequence the cursor names,
    /// nil on the first page; a 400 problem for a cursor that is not one.
    func sequenceCursor() throws(Problem) -> Int64? {
        guard let after else { return nil }
        guard let seq = Int64(after) else {
            throw Problem(status: .badRequest, type: "bad-query", title: "Bad query parameters",
                          errors: [.init(field: "cursor", message: "is not a cursor this API returned")])
        }
        return seq
    }

    /// The page made of `rows` fetched with `limit + 1` after `sequenceCursor()`: the first `limit` as items, and
    /// a cursor at the last of them when more follow.
    func sequencePage<Row, Item: Encodable>(_ rows: [Row], sequence: (Row) -> Int64, item: (Row) -> Item) -> Page<Item> {
        let kept = rows.prefix(limit)
        let next = rows.count > limit ? kept.last.map { Base64URL.encode(Array(("k:" + String(sequence($0))).utf8)) } : nil
        return Page(items: kept.map(item), nextCursor: next)
    }

    /// The page of `items` after the cursor, ordered by `key` (unique per item).
    func page<T>(_ items: [T], key: (T) -> String) -> (items: [T], nextCursor: String?) {
        let sorted = items.map { (key($0), $0) }.sorted { $0.0 < $1.0 }
        let rest = after.map { a in sorted.filter { $0.0 > a } } ?? sorted
        let slice = Array(rest.prefix(limit))
        let next = rest.count > limit ? slice.last.map { Base64URL.encode(Array(("k:" + $0.0).utf8)) } : nil
        return (slice.map(\.1), next)
    }
}
