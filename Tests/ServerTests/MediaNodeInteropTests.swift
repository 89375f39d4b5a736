import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tandem media` as the media node of a real Kamailio 5.6 proxy: Kamailio's rtpengine module
/// drives it over the ng protocol while SIPp places a call through Kamailio to a UAS
/// (`far_end.py`, which also plays the caller's RTP endpoint). Both far ends send 100 packets of
/// PCMU and count what they receive; the test also asks the node over ng (`query`) what it counted.
/// Set TANDEM_MEDIA_PEER=rtpengine to run the same call against the rtpengine daemon instead.
@Suite(.serialized) struct MediaNodeInteropTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InteropTests/kamailio-rtpengine").path
    static let kamailio = "/usr/sbin/kamailio"
    static let rtpengineModule = "/usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so"
    static let packets = 100

    @Test(.timeLimit(.minutes(1)))
    func kamailioRelaysACallThroughTheMediaNode() async throws {
        let work = NSTemporaryDirectory() + "tandem-kam-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let peers = Peers()
        do {
            try await call(peers, work: work)
        } catch {
            await peers.stopAll()
            try? FileManager.default.removeItem(atPath: work)
            throw error
        }
        await peers.stopAll()
        try? FileManager.default.removeItem(atPath: work)
    }

    func call(_ peers: Peers, work: String) async throws {
        let sipp = try #require(["/usr/bin/sipp", "/usr/local/bin/sipp"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                "SIPp is not installed (Debian package sip-tester)")
        try #require(FileManager.default.isExecutableFile(atPath: Self.kamailio) && FileManager.default.fileExists(atPath: Self.rtpengineModule),
                     "Kamailio with its rtpengine module is not installed (Debian packages kamailio, kamailio-extra-modules)")

        // The media node: Tandem unless TANDEM_MEDIA_PEER=rtpengine.
        let ngPort = Self.freeUDPPort()
        let rtpPorts = try #require(Self.freeUDPRange(count: 100))
        let useRTPEngine = ProcessInfo.processInfo.environment["TANDEM_MEDIA_PEER"] == "rtpengine"
        let node: TandemProcess
        if useRTPEngine {
            node = try peers.start("/usr/bin/rtpengine", [
                "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:\(ngPort)",
                "--port-min=\(rtpPorts.lowerBound)", "--port-max=\(rtpPorts.upperBound)",
                "--foreground", "--log-stderr", "--log-level=6",
                "--delete-delay=0",  // forget a call at once on delete, as Tandem does
            ])
        } else {
            node = try peers.start(tandemBinary(), unmasked: false, [
                "media", "--ng", "127.0.0.1:\(ngPort)", "--interface", "127.0.0.1",
                "--recording-dir", NSTemporaryDirectory() + "tandem-media-recordings",
                "--rtp-ports", "\(rtpPorts.lowerBound)-\(rtpPorts.upperBound)", "--workers", "1",
            ])
        }
        let nodeReady = useRTPEngine
            ? await node.stderr.line(where: { $0.contains("Startup complete") }, within: 10)
            : await node.stdout.line(where: { $0.contains("NG listening on udp 127.0.0.1:\(ngPort)") }, within: 10)
        try #require(nodeReady != nil, "media node did not start:\n\(node.stdout.all)\n\(node.stderr.all)")

        // Both far ends, on ports of their own choosing.
        let farEnd = try peers.start("/usr/bin/env", unmasked: false, [
            "python3", Self.directory + "/far_end.py", "--packets", String(Self.packets),
        ])
        let ready = try #require(await farEnd.stdout.line(where: { $0.hasPrefix("ready ") }, within: 10),
                                 "far_end.py did not start: \(farEnd.stderr.all)")
        let farPorts = Self.fields(ready)
        let uasSIP = try #require(farPorts["sip"].flatMap { Int($0) })
        let callerMedia = try #require(farPorts["uac-media"].flatMap { Int($0) })
        let calleeMedia = try #require(farPorts["uas-media"].flatMap { Int($0) })

        // Kamailio; its rtpengine module pings the node when a worker starts and logs the outcome.
        let sipPort = Self.freeUDPPort()
        let proxy = try peers.start(Self.kamailio, [
            "-DD", "-E", "-m", "64", "-M", "8", "-n", "1", "-w", work, "-Y", work,
            "-f", Self.directory + "/kamailio.cfg", "-l", "udp:127.0.0.1:\(sipPort)",
            "-A", "NG_SOCK=\"udp:127.0.0.1:\(ngPort)\"", "-A", "UAS_URI=\"sip:127.0.0.1:\(uasSIP)\"",
        ])
        let probe = await proxy.stderr.line(where: { $0.contains("rtpengine instance <udp:127.0.0.1:\(ngPort)>") }, within: 15)
        try #require(probe?.contains("found, support for it enabled") == true,
                     "Kamailio did not enable the media node (ng ping): \(probe ?? "no probe line")\n\(proxy.stderr.all.suffix(3000))")

        // The call: SIPp advertises the caller's RTP endpoint and logs the SDP of the 200 it receives.
        let logFile = work + "/sipp-actions.log"
        let caller = try peers.start(sipp, [
            "-sf", Self.directory + "/uac.xml", "-s", "media", "-m", "1", "-i", "127.0.0.1",
            "-p", String(Self.freeUDPPort()), "-key", "uacmedia", String(callerMedia),
            "-trace_logs", "-log_file", logFile, "-nostdin", "-timeout", "25", "-timeout_error",
            "127.0.0.1:\(sipPort)",
        ])

        let offer = try #require(await farEnd.stdout.line(where: { $0.hasPrefix("uas-offer ") }, within: 10),
                                 "no INVITE reached the UAS:\n\(proxy.stderr.all.suffix(2000))\n\(caller.stdout.all.suffix(2000))")
        let callID = try #require(Self.fields(offer)["call-id"])
        let mediaDone = await farEnd.stdout.line(where: { $0.hasPrefix("media-done ") }, within: 15)
        try #require(mediaDone != nil, "media did not finish: \(farEnd.stdout.all)")

        // While the call is up, ask the node what it counted (Kamailio's delete discards the stats).
        let (request, reply) = Self.ngExchange(port: ngPort, command: .dictionary([
            "command": .string("query"), "call-id": .string(callID),
        ]))
        let query = reply.flatMap { Self.ngBody($0) }

        farEnd.signal(SIGUSR1)  // hang up: the UAS sends BYE through Kamailio
        let farStatus = await farEnd.waitForExit(within: 10)
        let sippStatus = await caller.waitForExit(within: 15)
        // far_end.py exits once its BYE got 200, which Kamailio relays only after rtpengine_delete().
        let (_, afterReply) = Self.ngExchange(port: ngPort, command: .dictionary([
            "command": .string("query"), "call-id": .string(callID),
        ]))
        let afterBYE = afterReply.flatMap { Self.ngBody($0) }
        let resultLine = try #require(await farEnd.stdout.line(where: { $0.hasPrefix("result ") }, within: 2),
                                      "far_end.py gave no result: \(farEnd.stdout.all)\n\(farEnd.stderr.all)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(resultLine.dropFirst(7).utf8)) as? [String: Any])
        let uas = try #require(result["uas"] as? [String: Any])
        let uac = try #require(result["uac"] as? [String: Any])
        let uasOffer = try #require(result["uas_offer"] as? [String: Any])
        let actions = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        let answerPort = actions.split(separator: "\n").first { $0.hasPrefix("uac-answer-sdp ") }
            .flatMap { $0.split(separator: " ").dropFirst(2).first }.flatMap { Int($0) }
        let context = """
            ng query \(String(decoding: request, as: UTF8.self)) -> \(reply.map { String(decoding: $0, as: UTF8.self) } ?? "no reply")
            far end: \(resultLine)
            SIPp log: \(actions)
            SIPp: \(caller.stdout.all.suffix(1500)) \(caller.stderr.all.suffix(1500))
            node: \(node.stdout.all.suffix(1500)) \(node.stderr.all.suffix(3000))
            """

        // Signalling completed: SIPp saw its call succeed, the callee's BYE was answered 200.
        #expect(sippStatus == 0, "\(context)")
        #expect(farStatus == 0 && result["bye_status"] as? Int == 200, "\(context)")

        // Each side's SDP was rewritten to a port of the media node, not the other side's.
        let offerPort = uasOffer["port"] as? Int
        #expect(uasOffer["addr"] as? String == "127.0.0.1")
        #expect(offerPort.map { rtpPorts.contains($0) } == true && offerPort != callerMedia, "\(context)")
        #expect(answerPort.map { rtpPorts.contains($0) } == true && answerPort != calleeMedia, "\(context)")

        // RTP reached each far end through the node, from the port its SDP named, ≥ 80 % each way.
        let sentByCaller = uac["sent"] as? Int ?? 0, sentByCallee = uas["sent"] as? Int ?? 0
        #expect(sentByCaller == Self.packets && sentByCallee == Self.packets, "\(context)")
        #expect(Double(uas["received"] as? Int ?? 0) >= 0.8 * Double(sentByCaller), "\(context)")
        #expect(Double(uac["received"] as? Int ?? 0) >= 0.8 * Double(sentByCallee), "\(context)")
        #expect(uas["sources"] as? [String] == offerPort.map { ["127.0.0.1:\($0)"] }, "\(context)")
        #expect(uac["sources"] as? [String] == answerPort.map { ["127.0.0.1:\($0)"] }, "\(context)")

        // The node counted both directions before the BYE: per stream, keyed by its local port.
        #expect(query?["result"]?.text == "ok", "\(context)")
        let counted = query.map { Self.streamPackets($0) } ?? [:]
        for port in [offerPort, answerPort].compactMap({ $0 }) {
            #expect((counted[port] ?? 0) >= Self.packets * 8 / 10, "node counted \(counted) for port \(port)\n\(context)")
        }

        // Kamailio's rtpengine_delete() on the BYE removed the call from the node.
        #expect(afterBYE?["result"]?.text == "error",
                "query after BYE: \(afterReply.map { String(decoding: $0, as: UTF8.self) } ?? "no reply")")

        // `tandem media` leaves cleanly on SIGTERM.
        if !useRTPEngine {
            node.signal(SIGTERM)
            #expect(await node.waitForExit(within: 5) == 0, "tandem media on SIGTERM: \(node.stderr.all.suffix(2000))")
        }
    }

    // MARK: - ng over UDP (bencode, as Kamailio's rtpengine module sends it)

    /// A bencode value; strings stay bytes because ng carries SDP and binary keys.
    indirect enum BValue: Equatable {
        case integer(Int)
        case bytes([UInt8])
        case list([BValue])
        case dictionary([String: BValue])

        static func string(_ s: String) -> BValue { .bytes(Array(s.utf8)) }

        var text: String? { if case .bytes(let b) = self { String(decoding: b, as: UTF8.self) } else { nil } }
        subscript(key: String) -> BValue? { if case .dictionary(let d) = self { d[key] } else { nil } }

        func encoded() -> [UInt8] {
            switch self {
            case .integer(let i): return Array("i\(i)e".utf8)
            case .bytes(let b): return Array("\(b.count):".utf8) + b
            case .list(let l): return [UInt8(ascii: "l")] + l.flatMap { $0.encoded() } + [UInt8(ascii: "e")]
            case .dictionary(let d):
                return [UInt8(ascii: "d")] + d.keys.sorted().flatMap { BValue.string($0).encoded() + d[$0]!.encoded() }
                    + [UInt8(ascii: "e")]
            }
        }

        /// Decodes one value at `i`, advancing it; nil on malformed input.
        static func decode(_ b: [UInt8], _ i: inout Int) -> BValue? {
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "i"):
                guard let end = b[i...].firstIndex(of: UInt8(ascii: "e")),
                      let v = Int(String(decoding: b[(i + 1)..<end], as: UTF8.self)) else { return nil }
                i = end + 1
                return .integer(v)
            case UInt8(ascii: "l"), UInt8(ascii: "d"):
                let isList = b[i] == UInt8(ascii: "l")
                i += 1
                var items: [BValue] = []
                while i < b.count && b[i] != UInt8(ascii: "e") {
                    guard let v = decode(b, &i) else { return nil }
                    items.append(v)
                }
                guard i < b.count else { return nil }
                i += 1
                if isList { return .list(items) }
                guard items.count % 2 == 0 else { return nil }
                var d: [String: BValue] = [:]
                for k in stride(from: 0, to: items.count, by: 2) {
                    guard let key = items[k].text else { return nil }
                    d[key] = items[k + 1]
                }
                return .dictionary(d)
            default:
                guard let colon = b[i...].firstIndex(of: UInt8(ascii: ":")),
                      let n = Int(String(decoding: b[i..<colon], as: UTF8.self)), colon + 1 + n <= b.count else { return nil }
                i = colon + 1 + n
                return .bytes(Array(b[(colon + 1)..<i]))
            }
        }
    }

    /// Sends `<cookie> <bencode>` to 127.0.0.1:port and waits up to 2 s for the reply datagram.
    static func ngExchange(port: Int, command: BValue) -> (request: [UInt8], reply: [UInt8]?) {
        let request = Array("\(UInt32.random(in: 1...UInt32.max)) ".utf8) + command.encoded()
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return (request, nil) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let sent = request.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == request.count else { return (request, nil) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 2000) == 1 else { return (request, nil) }
        var reply = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &reply, reply.count, 0)
        return (request, n > 0 ? Array(reply[..<n]) : nil)
    }

    /// The bencoded dictionary after an ng reply's cookie.
    static func ngBody(_ reply: [UInt8]) -> BValue? {
        guard let space = reply.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        var i = space + 1
        return BValue.decode(reply, &i)
    }

    /// RTP packets the node received per local port: every dictionary in the reply holding
    /// "local port" and "stats" { "packets" } (rtpengine's tags → medias → streams layout).
    static func streamPackets(_ value: BValue) -> [Int: Int] {
        var out: [Int: Int] = [:]
        switch value {
        case .dictionary(let d):
            if case .integer(let port)? = d["local port"], case .integer(let packets)? = d["stats"]?["packets"] {
                out[port, default: 0] += packets
            }
            for v in d.values { out.merge(streamPackets(v)) { $0 + $1 } }
        case .list(let l):
            for v in l { out.merge(streamPackets(v)) { $0 + $1 } }
        default: break
        }
        return out
    }

    // MARK: - helpers

    /// The peers one test started; `stopAll` ends them by PID (SIGTERM, then SIGKILL after 5 s)
    /// and waits, so no Kamailio worker or media node outlives the test holding its ports.
    final class Peers: @unchecked Sendable {
        private let lock = NSLock()
        private var started: [TandemProcess] = []

        /// Starts `executable`. Foundation's Process passes on the signal mask of the thread that
        /// spawns it, in which SIGTERM is blocked; `unmasked` clears it with a python3 exec shim
        /// (same PID) so Kamailio and SIPp can be stopped. Tandem and far_end.py unblock themselves.
        func start(_ executable: String, unmasked: Bool = true, _ arguments: [String]) throws -> TandemProcess {
            let p = unmasked
                ? try TandemProcess(executable: "/usr/bin/env", arguments: [
                    "python3", "-c",
                    "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
                    executable,
                ] + arguments)
                : try TandemProcess(executable: executable, arguments: arguments)
            lock.withLock { started.append(p) }
            return p
        }

        func stopAll() async {
            for p in lock.withLock({ started.reversed() }) where p.process.isRunning {
                p.signal(SIGTERM)
                if await p.waitForExit(within: 5) == nil {
                    p.signal(SIGKILL)
                    _ = await p.waitForExit(within: 5)
                }
            }
        }
    }

    /// `key=value` fields of a far_end.py event line.
    static func fields(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in line.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    /// A free loopback UDP port, found by binding port 0.
    static func freeUDPPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 ? getsockname(fd, $0, &len) : -1 }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// `count` consecutive loopback UDP ports (even start) that are free right now.
    static func freeUDPRange(count: Int) -> ClosedRange<Int>? {
        for _ in 0..<50 {
            let base = Int.random(in: 10_000..<29_000) * 2
            var fds: [Int32] = []
            defer { fds.forEach { close($0) } }
            var free = true
            for port in base..<(base + count) {
                let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                fds.append(fd)
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = UInt16(port).bigEndian
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                let ok = withUnsafePointer(to: &addr) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
                if !ok { free = false; break }
            }
            if free { return base...(base + count - 1) }
        }
        return nil
    }
}
