/// Identifies one media session (the media of one call) across the control boundary.
/// For the ng protocol this is the call-id; for the in-process API it is chosen by call control.
public struct MediaSessionID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}
