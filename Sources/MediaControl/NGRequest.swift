/// One decoded ng request: the command plus every key rtpengine's common commands use.
///
/// SDP stays a `String` here: the engine parses it, so this layer never depends on SDP types.
/// Keys are matched with spaces and hyphens treated alike; unknown keys are kept in `extra`.
public struct NGRequest: Hashable, Sendable {
    /// The command.
    public var command: NGCommand
    /// `call-id`: the SIP Call-ID, naming the media session.
    public var callID: String?
    /// `from-tag`.
    public var fromTag: String?
    /// `to-tag`.
    public var toTag: String?
    /// `via-branch`.
    public var viaBranch: String?
    /// `sdp`: the complete SDP body.
    public var sdp: String?
    /// `flags`.
    public var flags = NGFlags()
    /// `replace` (plus `replace-...` flags).
    public var replace: [NGReplaceOption] = []
    /// `ICE`.
    public var ice: NGICEMode?
    /// `transport-protocol`.
    public var transportProtocol: NGTransportProtocol?
    /// `direction`: two logical interface names (from side, to side).
    public var direction: [String] = []
    /// `codec` (plus `codec-...` flags).
    public var codec = NGCodecOptions()
    /// `SDES` (plus `SDES-...` flags).
    public var sdes: [NGSDESOption] = []
    /// `received-from`.
    public var receivedFrom: NGReceivedFrom?
    /// `rtcp-mux`.
    public var rtcpMux: [NGRTCPMuxOption] = []
    /// `DTLS`.
    public var dtls: NGDTLSMode?
    /// `record call`: yes/on or no/off.
    public var recordCall: Bool?
    /// `label` (or `from-label`).
    public var label: String?
    /// `to-label`.
    public var toLabel: String?
    /// `address family`.
    public var addressFamily: NGAddressFamily?
    /// `media address`: overrides SDP and received-from addresses.
    public var mediaAddress: String?
    /// `delete-delay` in seconds.
    public var deleteDelay: Int64?
    /// `all`.
    public var all: NGAllSelector?
    /// `limit` (list).
    public var limit: Int64?
    /// `file` (play media).
    public var file: String?
    /// `blob` (play media).
    public var blob: [UInt8]?
    /// `repeat-times` (play media).
    public var repeatTimes: Int64?
    /// `code` or `digit` (play DTMF), as sent: an integer 0-15 or one character.
    public var dtmfCode: BencodeValue?
    /// `duration` in milliseconds (play DTMF).
    public var duration: Int64?
    /// `volume` in dB (play DTMF).
    public var volume: Int64?
    /// `output-destination` (start recording).
    public var outputDestination: String?
    /// Keys not modelled above, by their original spelling.
    public var extra: [String: BencodeValue] = [:]

    /// Creates a request with only the command set.
    public init(command: NGCommand) { self.command = command }
}

extension NGRequest {
    /// Decodes and validates a request dictionary; allocates. Errors map to ng error replies.
    public init(decoding body: BencodeValue) throws(NGRequestError) {
        guard case .dictionary(let dict) = body else { throw .notADictionary }
        var commandName: String?
        var rest: [(key: String, folded: String, value: BencodeValue)] = []
        rest.reserveCapacity(dict.count)
        for (rawKey, value) in dict {
            let key = String(decoding: rawKey, as: UTF8.self)
            if key == "command" {
                guard let name = value.stringValue else { throw .invalidValue(key: "command") }
                commandName = name
            } else {
                rest.append((key, NGKey.fold(key), value))
            }
        }
        guard let commandName else { throw .missingCommand }
        guard let command = NGCommand(rawValue: commandName) else { throw .unrecognizedCommand(commandName) }
        self.init(command: command)
        // Process keys in a fixed order so flags merge into lists deterministically.
        rest.sort { $0.key < $1.key }
        for entry in rest {
            try apply(key: entry.key, folded: entry.folded, value: entry.value)
        }
        try validate()
    }

    private mutating func apply(key: String, folded: String, value: BencodeValue) throws(NGRequestError) {
        func string() throws(NGRequestError) -> String {
            guard let s = value.stringValue else { throw .invalidValue(key: folded) }
            return s
        }
        func strings() throws(NGRequestError) -> [String] {
            // rtpengine also accepts a single string where a list is expected.
            if let s = value.stringValue { return [s] }
            guard let list = value.listValue else { throw .invalidValue(key: folded) }
            var out: [String] = []
            out.reserveCapacity(list.count)
            for element in list {
                guard let s = element.stringValue else { throw .invalidValue(key: folded) }
                out.append(s)
            }
            return out
        }
        func integer() throws(NGRequestError) -> Int64 {
            if let i = value.integerValue { return i }
            // Kamailio sends some integers as decimal strings.
            if let s = value.stringValue, let i = Int64(s) { return i }
            throw .invalidValue(key: folded)
        }
        func keyword<E: RawRepresentable>(_: E.Type) throws(NGRequestError) -> E where E.RawValue == String {
            guard let e = E(rawValue: try string()) else { throw .invalidValue(key: folded) }
            return e
        }

        switch folded {
        case "call-id": callID = try string()
        case "from-tag": fromTag = try string()
        case "to-tag": toTag = try string()
        case "via-branch": viaBranch = try string()
        case "sdp": sdp = try string()
        case "flags":
            for flag in try strings() { applyFlag(NGKey.fold(flag)) }
        case "replace":
            for r in try strings() { replace.append(NGReplaceOption(rawValue: r)) }
        case "ICE": ice = try keyword(NGICEMode.self)
        case "transport-protocol": transportProtocol = try keyword(NGTransportProtocol.self)
        case "direction": direction = try strings()
        case "codec": try applyCodec(value)
        case "SDES":
            for s in try strings() { sdes.append(NGSDESOption(keyword: s)) }
        case "received-from":
            let parts = try strings()
            guard parts.count == 2, let family = NGAddressFamily(rawValue: parts[0]) else {
                throw .invalidValue(key: folded)
            }
            receivedFrom = NGReceivedFrom(family: family, address: parts[1])
        case "rtcp-mux":
            for s in try strings() { rtcpMux.append(NGRTCPMuxOption(rawValue: s)) }
        case "DTLS":
            guard let mode = NGDTLSMode(keyword: try string()) else { throw .invalidValue(key: folded) }
            dtls = mode
        case "record-call":
            switch try string() {
            case "yes", "on": recordCall = true
            case "no", "off": recordCall = false
            default: throw .invalidValue(key: folded)
            }
        case "label", "from-label": label = try string()
        case "to-label": toLabel = try string()
        case "address-family": addressFamily = try keyword(NGAddressFamily.self)
        case "media-address": mediaAddress = try string()
        case "delete-delay": deleteDelay = try integer()
        case "all": all = try keyword(NGAllSelector.self)
        case "limit": limit = try integer()
        case "file": file = try string()
        case "blob":
            guard case .bytes(let b) = value else { throw .invalidValue(key: folded) }
            blob = b
        case "repeat-times": repeatTimes = try integer()
        case "code", "digit":
            switch value {
            case .integer, .bytes: dtmfCode = value
            default: throw .invalidValue(key: folded)
            }
        case "duration": duration = try integer()
        case "volume": volume = try integer()
        case "output-destination": outputDestination = try string()
        default: extra[key] = value
        }
    }

    /// One `flags` entry: modelled flags, then the `SDES-`, `codec-` and `replace-` prefixes rtpengine allows.
    private mutating func applyFlag(_ flag: String) {
        for (name, path) in NGFlags.known where name == flag {
            flags[keyPath: path] = true
            return
        }
        if flag.hasPrefix("SDES-") {
            sdes.append(NGSDESOption(keyword: String(flag.dropFirst(5))))
            return
        }
        if flag.hasPrefix("replace-") {
            replace.append(NGReplaceOption(rawValue: String(flag.dropFirst(8))))
            return
        }
        let codecLists: [(String, WritableKeyPath<NGCodecOptions, [String]>)] = [
            ("codec-strip-", \.strip), ("codec-offer-", \.offer), ("codec-mask-", \.mask),
            ("codec-transcode-", \.transcode), ("codec-accept-", \.accept), ("codec-except-", \.except),
            ("codec-consume-", \.consume), ("codec-set-", \.set),
        ]
        for (prefix, path) in codecLists where flag.hasPrefix(prefix) && flag.utf8.count > prefix.utf8.count {
            codec[keyPath: path].append(String(flag.dropFirst(prefix.count)))
            return
        }
        flags.other.append(flag)
    }

    private mutating func applyCodec(_ value: BencodeValue) throws(NGRequestError) {
        guard case .dictionary(let dict) = value else { throw .invalidValue(key: "codec") }
        for rawKey in dict.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let v = dict[rawKey] else { continue }
            let key = String(decoding: rawKey, as: UTF8.self)
            let path: WritableKeyPath<NGCodecOptions, [String]>
            switch key {
            case "strip": path = \.strip
            case "offer": path = \.offer
            case "mask": path = \.mask
            case "transcode": path = \.transcode
            case "accept": path = \.accept
            case "except": path = \.except
            case "consume": path = \.consume
            case "set": path = \.set
            default:
                codec.other[key] = v
                continue
            }
            if let s = v.stringValue {
                codec[keyPath: path].append(s)
                continue
            }
            guard let list = v.listValue else { throw .invalidValue(key: "codec") }
            for element in list {
                guard let s = element.stringValue else { throw .invalidValue(key: "codec") }
                codec[keyPath: path].append(s)
            }
        }
    }

    /// Per-command required keys, checked in rtpengine's order (SDP, then call-id, then tags).
    private func validate() throws(NGRequestError) {
        switch command {
        case .offer, .answer:
            guard sdp != nil else { throw .missingSDP }
            guard callID != nil else { throw .missingCallID }
            guard fromTag != nil else { throw .missingFromTag }
            if command == .answer, toTag == nil { throw .missingToTag }
        default:
            if command.requiresCallID, callID == nil { throw .missingCallID }
        }
    }
}

extension NGRequest {
    /// The request as an ng dictionary (what a controlling client sends); allocates.
    ///
    /// Flags that decoding folded into `sdes`, `codec` or `replace` come back under those keys,
    /// so `NGRequest(decoding: r.dictionary) == r` for every decoded request.
    public var dictionary: BencodeValue {
        var d: [String: BencodeValue] = extra
        d["command"] = .string(command.rawValue)
        if let callID { d["call-id"] = .string(callID) }
        if let fromTag { d["from-tag"] = .string(fromTag) }
        if let toTag { d["to-tag"] = .string(toTag) }
        if let viaBranch { d["via-branch"] = .string(viaBranch) }
        if let sdp { d["sdp"] = .string(sdp) }
        let wireFlags = flags.wireFlags
        if !wireFlags.isEmpty { d["flags"] = .stringList(wireFlags) }
        if !replace.isEmpty { d["replace"] = .stringList(replace.map(\.rawValue)) }
        if let ice { d["ICE"] = .string(ice.rawValue) }
        if let transportProtocol { d["transport-protocol"] = .string(transportProtocol.rawValue) }
        if !direction.isEmpty { d["direction"] = .stringList(direction) }
        if !codec.isEmpty {
            var c: [String: BencodeValue] = codec.other
            let lists: [(String, [String])] = [
                ("strip", codec.strip), ("offer", codec.offer), ("mask", codec.mask),
                ("transcode", codec.transcode), ("accept", codec.accept), ("except", codec.except),
                ("consume", codec.consume), ("set", codec.set),
            ]
            for (name, list) in lists where !list.isEmpty { c[name] = .stringList(list) }
            d["codec"] = .dictionary(c)
        }
        if !sdes.isEmpty { d["SDES"] = .stringList(sdes.map(\.keyword)) }
        if let receivedFrom {
            d["received-from"] = .stringList([receivedFrom.family.rawValue, receivedFrom.address])
        }
        if !rtcpMux.isEmpty { d["rtcp-mux"] = .stringList(rtcpMux.map(\.rawValue)) }
        if let dtls { d["DTLS"] = .string(dtls.rawValue) }
        if let recordCall { d["record call"] = .string(recordCall ? "yes" : "no") }
        if let label { d["label"] = .string(label) }
        if let toLabel { d["to-label"] = .string(toLabel) }
        if let addressFamily { d["address family"] = .string(addressFamily.rawValue) }
        if let mediaAddress { d["media address"] = .string(mediaAddress) }
        if let deleteDelay { d["delete-delay"] = .integer(deleteDelay) }
        if let all { d["all"] = .string(all.rawValue) }
        if let limit { d["limit"] = .integer(limit) }
        if let file { d["file"] = .string(file) }
        if let blob { d["blob"] = .bytes(blob) }
        if let repeatTimes { d["repeat-times"] = .integer(repeatTimes) }
        if let dtmfCode { d["code"] = dtmfCode }
        if let duration { d["duration"] = .integer(duration) }
        if let volume { d["volume"] = .integer(volume) }
        if let outputDestination { d["output-destination"] = .string(outputDestination) }
        return .dictionary(d)
    }
}
