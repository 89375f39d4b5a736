import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Store

/// Who is calling: resolved from an access token or an API key by `AuthMiddleware`.
public struct Caller: Sendable, Equatable {
    public enum Credential: String, Sendable { case accessToken = "access_token", apiKey = "api_key" }

    public var role: AccountRole
    /// The caller's tenant: every request is scoped to it (a system administrator may name another).
    public var tenantID: String
    /// The account id, or the extension id for an extension user, or the API key id.
    public var subjectID: String
    /// `account`, `extension` or `api_key`.
    public var kind: String
    /// Login name (`admin`, `alice@example.com`, `100@example.com`) or the API key's name.
    public var name: String
    public var credential: Credential

    /// The extension an extension user is; nil for administrators.
    public var extensionID: String? { role == .extensionUser ? subjectID : nil }
}

/// The request context of every route: Hummingbird's core storage, the caller once authenticated, the peer
/// address (login rate limiting) and the WebSocket hand-off. Bodies are limited to 1 MiB (413 beyond).
public struct APIRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<APIRequestContext>
    public let remoteAddress: SocketAddress?
    /// Set by `AuthMiddleware` on authenticated routes.
    public var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        caller = nil
    }

    public var maxUploadSize: Int { 1 << 20 }

    /// The authenticated caller; routes behind `AuthMiddleware` always have one.
    func requireCaller() throws(Problem) -> Caller {
        guard let caller else { throw Problem.unauthorized("no credentials") }
        return caller
    }
}
