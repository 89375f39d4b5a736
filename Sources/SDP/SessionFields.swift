/// Splits a field value on single spaces, skipping empty pieces so runs of spaces are tolerated.
@inline(__always)
func sdpFields(_ value: Substring) -> [Substring] {
    value.split(separator: " ", omittingEmptySubsequences: true)
}

/// The `o=` line: who created the session and its version (RFC 8866 §5.2).
public struct SDPOrigin: Sendable, Hashable {
    /// The user name on the originating host, `-` when there is none.
    public var username: String
    /// The session identifier, a numeric string kept verbatim because phones send more than 64 bits.
    public var sessionID: String
    /// The session version, incremented on every new offer for the same session (RFC 3264 §8).
    public var sessionVersion: UInt64
    /// The network type, `IN` for the Internet.
    public var networkType: String
    /// The address type of `address`.
    public var addressType: SDPAddressType
    /// The originating host's address or name.
    public var address: String

    /// Creates an origin from its fields.
    public init(username: String = "-", sessionID: String, sessionVersion: UInt64, networkType: String = "IN",
                addressType: SDPAddressType, address: String) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// Parses an `o=` value; returns nil when it is not six fields with a numeric version.
    init?(value: Substring) {
        let f = sdpFields(value)
        guard f.count == 6, let version = UInt64(f[2]), let type = SDPAddressType(rawValue: String(f[4])) else {
            return nil
        }
        self.init(username: String(f[0]), sessionID: String(f[1]), sessionVersion: version,
                  networkType: String(f[3]), addressType: type, address: String(f[5]))
    }

    /// The `o=` value as written on the wire.
    public var value: String {
        "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType.rawValue) \(address)"
    }
}

/// A `c=` line: where media is sent (RFC 8866 §5.7).
public struct SDPConnection: Sendable, Hashable {
    /// The network type, `IN` for the Internet.
    public var networkType: String
    /// The address type of `address`.
    public var addressType: SDPAddressType
    /// The address, with any multicast `/ttl/count` suffix kept verbatim.
    public var address: String

    /// Creates a connection line; the address type defaults to the one `address` looks like.
    public init(networkType: String = "IN", addressType: SDPAddressType? = nil, address: String) {
        self.networkType = networkType
        self.addressType = addressType ?? SDPAddressType(address: address)
        self.address = address
    }

    /// Parses a `c=` value; returns nil when it is not three fields with a known address type.
    init?(value: Substring) {
        let f = sdpFields(value)
        guard f.count == 3, let type = SDPAddressType(rawValue: String(f[1])) else { return nil }
        self.init(networkType: String(f[0]), addressType: type, address: String(f[2]))
    }

    /// Whether this is the RFC 2543 hold address `0.0.0.0` (RFC 3264 §8.4 says answerers must still honour it).
    public var isHoldAddress: Bool { address == "0.0.0.0" }

    /// The `c=` value as written on the wire.
    public var value: String { "\(networkType) \(addressType.rawValue) \(address)" }
}

/// A `b=` line: a bandwidth limit (RFC 8866 §5.8, RFC 3890 for TIAS).
public struct SDPBandwidth: Sendable, Hashable {
    /// The bandwidth type: `CT`, `AS` (kbit/s), `TIAS` (bit/s), `RR`, `RS`, or another token kept verbatim.
    public var type: String
    /// The value in the unit of `type`.
    public var value: UInt64

    /// Creates a bandwidth line.
    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }

    /// Parses a `b=` value; returns nil when it is not `<token>:<number>`.
    init?(value: Substring) {
        guard let colon = value.firstIndex(of: ":") else { return nil }
        let type = value[..<colon]
        guard !type.isEmpty, !type.contains(" "), let v = UInt64(value[value.index(after: colon)...]) else { return nil }
        self.init(type: String(type), value: v)
    }

    /// The `b=` value as written on the wire.
    public var lineValue: String { "\(type):\(value)" }
}

/// A `t=` line with the `r=` lines that follow it (RFC 8866 §5.9, §5.10).
public struct SDPTiming: Sendable, Hashable {
    /// The start time in NTP seconds, 0 for an unbounded session.
    public var start: UInt64
    /// The stop time in NTP seconds, 0 for an unbounded session.
    public var stop: UInt64
    /// The `r=` values, kept verbatim.
    public var repeats: [String]

    /// Creates a timing line; `t=0 0` by default, as SIP sessions use (RFC 3264 §5).
    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }

    /// Parses a `t=` value; returns nil when it is not two numbers.
    init?(value: Substring) {
        let f = sdpFields(value)
        guard f.count == 2, let start = UInt64(f[0]), let stop = UInt64(f[1]) else { return nil }
        self.init(start: start, stop: stop)
    }
}
