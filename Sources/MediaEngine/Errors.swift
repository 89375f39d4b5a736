/// Errors from the media engine's configuration and sockets.
public enum MediaEngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An RTP port range that cannot be used, with the reason.
    case invalidPortRange(String)

    public var description: String {
        switch self {
        case .invalidPortRange(let why): "invalid RTP port range: \(why)"
        }
    }
}
