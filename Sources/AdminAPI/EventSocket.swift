import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import Store

/// `GET /api/v1/events` upgraded to a WebSocket: live events scoped to what the caller may see (the system
/// administrator: every tenant; a tenant administrator or API key: its tenant; an extension user: its own
/// extension).
///
/// Protocol: topics come from `?topics=a,b` and from client messages `{"action":"subscribe","topics":[…]}` /
/// `{"action":"unsubscribe","topics":[…]}`; each change is acknowledged with
/// `{"type":"subscribed","topics":[…]}` (also sent once on connect) before events of those topics flow. Events
/// are `APIEvent` objects. Unknown topics are answered `{"type":"error","detail":…}`.
enum EventSocket {
    static let topics: Set<String> = ["extensions", "cdr", "calls", "media"]

    static func register(on router: Router<APIRequestContext>, service s: AdminAPIService) {
        router.ws("api/v1/events", shouldUpgrade: { request, _ in
            // A refused upgrade falls through to the HTTP route, which answers the same 401 as every other route.
            _ = try s.authenticate(request, allowQueryToken: true)
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            guard let caller = try? s.authenticate(context.request, allowQueryToken: true) else { return }
            var myNumber: String?
            if caller.role == .extensionUser {
                guard let me = try? s.store.extensionRecord(id: caller.subjectID) else { return }
                myNumber = me.number
            }
            let onlyNumber = myNumber
            let requested = Set((context.request.uri.queryParameters.get("topics") ?? "").split(separator: ",").map(String.init))
            let subscribed = NIOLockedValueBox(requested.intersection(topics))
            let (id, stream) = s.events.subscribe { event in
                caller.sees(tenantID: event.tenantID)
                    && (onlyNumber == nil || event.extension == onlyNumber
                        || (event.topic == "cdr" && event.data["callee"] == onlyNumber)
                        || (event.topic == "calls" && (event.data["callee"] == onlyNumber || event.data["target"] == onlyNumber)))
                    && subscribed.withLockedValue { $0.contains(event.topic) }
            }
            defer { s.events.cancel(id) }
            try await outbound.write(.text(ack(subscribed.withLockedValue { $0 })))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in stream {
                        let data = try APIJSON.encoder.encode(event)
                        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 64 * 1024) {
                        guard case .text(let text) = message else { continue }
                        struct Command: Decodable { var action: String; var topics: [String] }
                        guard let command = try? JSONDecoder().decode(Command.self, from: Data(text.utf8)),
                              command.action == "subscribe" || command.action == "unsubscribe" else {
                            try await outbound.write(.text(#"{"type":"error","detail":"expected {\"action\":\"subscribe\"|\"unsubscribe\",\"topics\":[…]}"}"#))
                            continue
                        }
                        let unknown = Set(command.topics).subtracting(topics)
                        if !unknown.isEmpty {
                            try await outbound.write(.text(#"{"type":"error","detail":"unknown topics: "# + unknown.sorted().joined(separator: ",") + #""}"#))
                            continue
                        }
                        let now = subscribed.withLockedValue { set in
                            if command.action == "subscribe" { set.formUnion(command.topics) } else { set.subtract(command.topics) }
                            return set
                        }
                        try await outbound.write(.text(ack(now)))
                    }
                }
                // Either side ending (client closed, or the hub finished the stream) ends the connection.
                try await group.next()
                group.cancelAll()
            }
        })
    }

    private static func ack(_ topics: Set<String>) -> String {
        #"{"topics":["# + topics.sorted().map { "\"\($0)\"" }.joined(separator: ",") + #"],"type":"subscribed"}"#
    }
}
