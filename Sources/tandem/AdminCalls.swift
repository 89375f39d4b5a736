import ArgumentParser
import Foundation

/// `tandem admin calls list|hangup`: the active calls of a running server.
struct AdminCalls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calls", abstract: "Active calls: list them, hang one up.",
                                                    subcommands: [List.self, HangUp.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List calls not yet ended, oldest first.")
        @OptionGroup var connection: AdminConnection
        @Option(name: .customLong("tenant-id")) var tenantID: String?

        func run() async throws {
            let items = try await connection.client().all("/api/v1/calls" + query([("tenant_id", tenantID)]))
            printTable(items, columns: ["started_at", "state", "caller", "callee", "target", "id"], json: connection.json)
        }
    }

    struct HangUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hangup", abstract: "Hang up a call (BYE or CANCEL to both parties; the CDR says admin).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The call id (from 'calls list').") var id: String

        func run() async throws {
            let path = "/api/v1/calls/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id)
            _ = try await connection.client().expect(204, "DELETE", path)
            Console.out("hung up call \(id)")
        }
    }
}
