import Foundation
import MediaEngine
import SIPStack

/// A listening address, `HOST:PORT` or `[IPv6]:PORT`; `:PORT` means all IPv4 interfaces.
struct ListenAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String, setting: String) throws(ConfigurationError) {
        let bad = ConfigurationError.invalidValue(setting: setting, value: text,
                                                  expected: "HOST:PORT, e.g. 0.0.0.0:8888 or [::1]:8888")
        var hostPart: Substring
        var portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { throw bad }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw bad }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        if hostPart.isEmpty { hostPart = "0.0.0.0" }
        guard let port = Int(portPart), (0...65535).contains(port), !hostPart.contains(" ") else { throw bad }
        self.host = String(hostPart)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Problems with configuration, each phrased as what is wrong and how to fix it.
enum ConfigurationError: Error, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case malformedFile(path: String, reason: String)
    case unknownSetting(path: String, key: String)
    case invalidValue(setting: String, value: String, expected: String)

    var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read configuration file \(path): \(reason); check the path given to --config or TANDEM_CONFIG"
        case .malformedFile(let path, let reason):
            "configuration file \(path) is not a JSON object of settings: \(reason)"
        case .unknownSetting(let path, let key):
            "unknown setting '\(key)' in \(path); known settings are: \(ServerConfiguration.Key.allCases.map(\.rawValue).joined(separator: ", "))"
        case .invalidValue(let setting, let value, let expected):
            "invalid value '\(value)' for \(setting): expected \(expected)"
        }
    }
}

/// The server's effective configuration. Sources, lowest precedence first: built-in defaults,
/// the JSON file (`--config` / `TANDEM_CONFIG`), `TANDEM_*` environment variables, flags.
struct ServerConfiguration: Equatable {
    enum LogFormat: String, CaseIterable { case text, json }

    /// Every setting, by its file key. The environment variable is `TANDEM_` + the key upper-cased.
    enum Key: String, CaseIterable {
        case data, http, sip
        case sipTLS = "sip_tls"
        case sipWS = "sip_ws"
        case sipWSS = "sip_wss"
        case rtpPorts = "rtp_ports"
        case tlsCertificate = "tls_certificate"
        case tlsKey = "tls_key"
        case workers
        case logFormat = "log_format"
        case logLevel = "log_level"
        case ringTimeout = "ring_timeout"
        /// MOS estimate below which a leg raises a `media.quality_alarm` event (0: off).
        case mediaAlarmMOS = "media_alarm_mos"
        case mediaTimeout = "media_timeout"
        case sipAllow = "sip_allow"
        case sipDeny = "sip_deny"
        case sipRateLimit = "sip_rate_limit"
        /// Call recordings directory (default `<data>/recordings`).
        case recordings
        case sessionTimer = "session_timer"

        var environmentName: String { "TANDEM_" + rawValue.uppercased() }
        var flagName: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
    }

    var dataDirectory = "./data"
    var http = ListenAddress(host: "0.0.0.0", port: 8888)
    var sip = ListenAddress(host: "0.0.0.0", port: 5060)
    var sipTLS = ListenAddress(host: "0.0.0.0", port: 5061)
    var sipWS = ListenAddress(host: "0.0.0.0", port: 5062)
    var sipWSS = ListenAddress(host: "0.0.0.0", port: 5065)
    var rtpPorts = RTPPortRange.default
    /// PEM certificate chain and key for SIP over TLS and WSS; both nil means a self-signed pair in `<data>/tls`.
    var tlsCertificate: String?
    var tlsKey: String?
    var workers = HostCPU.availableCount
    var logFormat = LogFormat.text
    var logLevel = "info"
    /// How long a callee rings before the caller gets 480 or its no-answer rule applies, in milliseconds.
    var ringTimeoutMilliseconds: Int64 = 30_000
    /// `media_alarm_mos`: legs whose MOS estimate falls below this raise `media.quality_alarm` (0: off).
    var mediaAlarmMOS = 3.1
    /// Seconds without RTP on a call's leg before Tandem hangs the call up.
    var mediaTimeoutSeconds: Double = 120
    /// Who may send SIP (empty: everyone), who may not, and how many packets per second one IP address may send.
    var sipAllow: [SIPAddressRange] = []
    var sipDeny: [SIPAddressRange] = []
    var sipRateLimit = 500
    /// Where call recordings go (`recordings`); nil: `<data>/recordings`.
    var recordingsSetting: String?
    var recordingsDirectory: String { recordingsSetting ?? (dataDirectory as NSString).appendingPathComponent("recordings") }
    /// RFC 4028 session timers on call legs: Session-Expires asked and Min-SE, in seconds; nil: off.
    /// `session_timer` is `off`, `EXPIRES` or `EXPIRES/MIN_SE` (default 120/90; below 90 only for tests).
    var sessionTimer: SessionTimerPolicy? = SessionTimerPolicy()

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Applies one setting given as text from any source.
    mutating func apply(_ key: Key, _ value: String, source: String) throws(ConfigurationError) {
        let setting = "\(key.rawValue) (\(source))"
        switch key {
        case .data:
            guard !value.isEmpty else { throw .invalidValue(setting: setting, value: value, expected: "a directory path") }
            dataDirectory = value
        case .http: http = try ListenAddress(parsing: value, setting: setting)
        case .sip: sip = try ListenAddress(parsing: value, setting: setting)
        case .sipTLS: sipTLS = try ListenAddress(parsing: value, setting: setting)
        case .sipWS: sipWS = try ListenAddress(parsing: value, setting: setting)
        case .sipWSS: sipWSS = try ListenAddress(parsing: value, setting: setting)
        case .rtpPorts:
            do { rtpPorts = try RTPPortRange(parsing: value) } catch {
                throw .invalidValue(setting: setting, value: value,
                                    expected: "FIRST-LAST within 1024-65535 holding at least one even/odd pair (\(error))")
            }
        case .tlsCertificate:
            guard !value.isEmpty else { throw .invalidValue(setting: setting, value: value, expected: "a PEM file path") }
            tlsCertificate = value
        case .tlsKey:
            guard !value.isEmpty else { throw .invalidValue(setting: setting, value: value, expected: "a PEM file path") }
            tlsKey = value
        case .workers:
            guard let n = Int(value), (1...256).contains(n) else {
                throw .invalidValue(setting: setting, value: value, expected: "a worker count from 1 to 256")
            }
            workers = n
        case .logFormat:
            guard let f = LogFormat(rawValue: value) else {
                throw .invalidValue(setting: setting, value: value, expected: "text or json")
            }
            logFormat = f
        case .logLevel:
            guard Self.logLevels.contains(value) else {
                throw .invalidValue(setting: setting, value: value, expected: Self.logLevels.joined(separator: ", "))
            }
            logLevel = value
        case .ringTimeout:
            guard let seconds = Double(value), seconds > 0, seconds <= 3600 else {
                throw .invalidValue(setting: setting, value: value, expected: "seconds from 0 to 3600")
            }
            ringTimeoutMilliseconds = Int64(seconds * 1000)
        case .mediaAlarmMOS:
            guard let mos = Double(value), mos == 0 || (1...4.5).contains(mos) else {
                throw .invalidValue(setting: setting, value: value, expected: "a MOS from 1 to 4.5, or 0 for no quality alarms")
            }
            mediaAlarmMOS = mos
        case .mediaTimeout:
            guard let seconds = Double(value), seconds >= 0.1, seconds <= 86_400 else {
                throw .invalidValue(setting: setting, value: value, expected: "seconds from 0.1 to 86400")
            }
            mediaTimeoutSeconds = seconds
        case .sipAllow, .sipDeny:
            var ranges: [SIPAddressRange] = []
            for item in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                guard let range = SIPAddressRange(item) else {
                    throw .invalidValue(setting: setting, value: value, expected: "comma-separated addresses or CIDR ranges (10.0.0.0/8, 2001:db8::/32)")
                }
                ranges.append(range)
            }
            if key == .sipAllow { sipAllow = ranges } else { sipDeny = ranges }
        case .sipRateLimit:
            guard let n = Int(value), (0...1_000_000).contains(n) else {
                throw .invalidValue(setting: setting, value: value, expected: "packets per second per source IP, 0 for no limit")
            }
            sipRateLimit = n
        case .recordings:
            guard !value.isEmpty else { throw .invalidValue(setting: setting, value: value, expected: "a directory path") }
            recordingsSetting = value
        case .sessionTimer:
            if value == "off" {
                sessionTimer = nil
                return
            }
            let parts = value.split(separator: "/", omittingEmptySubsequences: false).map { UInt32($0) }
            guard (1...2).contains(parts.count), let expires = parts[0], let minimum = parts.count == 2 ? parts[1] : min(90, expires),
                  minimum >= 1, minimum <= expires, expires <= 86_400 else {
                throw .invalidValue(setting: setting, value: value,
                                    expected: "off, EXPIRES or EXPIRES/MIN_SE in seconds (MIN_SE <= EXPIRES <= 86400)")
            }
            sessionTimer = SessionTimerPolicy(sessionExpires: expires, minimumSE: minimum, floor: min(90, minimum))
        }
    }

    /// Resolves the configuration from a file, the environment and flags, in rising precedence.
    static func resolve(configFile flagConfig: String?, environment: [String: String],
                        flags: [Key: String]) throws(ConfigurationError) -> ServerConfiguration {
        var config = ServerConfiguration()
        if let path = flagConfig ?? environment["TANDEM_CONFIG"] {
            for (key, value) in try readFile(path) {
                try config.apply(key, value, source: "file \(path)")
            }
        }
        for key in Key.allCases {
            if let value = environment[key.environmentName] { try config.apply(key, value, source: key.environmentName) }
        }
        for key in Key.allCases {
            if let value = flags[key] { try config.apply(key, value, source: key.flagName) }
        }
        if (config.tlsCertificate == nil) != (config.tlsKey == nil) {
            throw .invalidValue(setting: "tls_certificate/tls_key", value: config.tlsCertificate ?? config.tlsKey ?? "",
                                expected: "both a certificate and a key, or neither (then a self-signed pair is generated)")
        }
        return config
    }

    /// Reads a JSON object of settings; values may be strings or numbers.
    static func readFile(_ path: String) throws(ConfigurationError) -> [(Key, String)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw .unreadableFile(path: path, reason: reason)
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .malformedFile(path: path, reason: "invalid JSON")
        }
        guard let dict = object as? [String: Any] else { throw .malformedFile(path: path, reason: "top level is not an object") }
        var result: [(Key, String)] = []
        for (name, raw) in dict.sorted(by: { $0.key < $1.key }) {
            guard let key = Key(rawValue: name) else { throw .unknownSetting(path: path, key: name) }
            switch raw {
            case let s as String: result.append((key, s))
            case let n as NSNumber: result.append((key, n.stringValue))
            default: throw .invalidValue(setting: "\(name) (file \(path))", value: "\(raw)", expected: "a string or a number")
            }
        }
        return result
    }

    /// The configuration as a JSON object with the file's keys, for `tandem config`.
    var jsonObject: [String: Any] {
        [
            Key.data.rawValue: dataDirectory,
            Key.http.rawValue: http.description,
            Key.sip.rawValue: sip.description,
            Key.sipTLS.rawValue: sipTLS.description,
            Key.sipWS.rawValue: sipWS.description,
            Key.sipWSS.rawValue: sipWSS.description,
            Key.rtpPorts.rawValue: rtpPorts.description,
            Key.workers.rawValue: workers,
            Key.tlsCertificate.rawValue: tlsCertificate ?? NSNull(),
            Key.tlsKey.rawValue: tlsKey ?? NSNull(),
            Key.logFormat.rawValue: logFormat.rawValue,
            Key.logLevel.rawValue: logLevel,
            Key.ringTimeout.rawValue: Double(ringTimeoutMilliseconds) / 1000,
            Key.mediaAlarmMOS.rawValue: mediaAlarmMOS,
            Key.mediaTimeout.rawValue: mediaTimeoutSeconds,
            Key.sipAllow.rawValue: sipAllow.map(\.description).joined(separator: ","),
            Key.sipDeny.rawValue: sipDeny.map(\.description).joined(separator: ","),
            Key.sipRateLimit.rawValue: sipRateLimit,
            Key.recordings.rawValue: recordingsDirectory,
            Key.sessionTimer.rawValue: sessionTimer.map { "\($0.sessionExpires)/\($0.minimumSE)" } ?? "off",
        ]
    }
}
