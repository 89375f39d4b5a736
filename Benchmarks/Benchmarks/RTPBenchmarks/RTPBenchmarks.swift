import Benchmark
import BenchmarkSupport
import RTP
import TandemBase

/// Per-packet costs of RTP/RTCP parsing and writing. Packets are built before the measured region;
/// allocation counts are gated by Thresholds/ (zero once warm).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .tandemHotPath()

    /// A 172-byte PCMU packet: 12-byte header + 160 bytes of payload.
    func pcmuPacket() -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: 172)
        let payload = [UInt8](repeating: 0xd5, count: 160)
        let written = payload.withUnsafeBytes { p in
            packet.withUnsafeMutableBytes { out in
                (try? RTPPacketWriter(hasMarker: false, payloadType: .pcmu, sequenceNumber: SequenceNumber(4711),
                                      timestamp: RTPTimestamp(160_000), ssrc: SSRC(0x1234_5678), payload: p).write(to: out)) ?? 0
            }
        }
        precondition(written == 172)
        return packet
    }

    Benchmark("RTP.parse.pcmu") { benchmark in
        let packet = pcmuPacket()
        packet.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                if let parsed = try? RTPPacket(parsing: bytes) {
                    blackHole(parsed.sequenceNumber)
                    blackHole(parsed.payloadLength)
                }
            }
        }
    }

    Benchmark("RTP.write.pcmu") { benchmark in
        let payload = [UInt8](repeating: 0xd5, count: 160)
        var out = [UInt8](repeating: 0, count: 256)
        payload.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                var seq = SequenceNumber(1)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    seq = seq.advanced(by: 1)
                    let writer = RTPPacketWriter(payloadType: .pcmu, sequenceNumber: seq, timestamp: RTPTimestamp(160),
                                                 ssrc: SSRC(7), payload: p)
                    blackHole(try? writer.write(to: o))
                }
            }
        }
    }

    Benchmark("RTCP.parse.compoundSR") { benchmark in
        // A sender report with one report block, followed by a receiver report: walk and decode both.
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBytes { out -> Int in
            let blocks = [RTCPReportBlock(ssrc: SSRC(9), fractionLost: 3, cumulativeLost: 10, extendedHighestSequenceNumber: 70000,
                                          jitter: 12, lastSenderReport: 0x1234_5678, delaySinceLastSenderReport: 655)]
            return blocks.withUnsafeBufferPointer { b in
                let sr = RTCPSenderReportWriter(ssrc: SSRC(1), ntpTimestamp: NTPTimestamp(rawValue: 0xdead_beef_0000_0001),
                                                rtpTimestamp: RTPTimestamp(1000), packetCount: 50, octetCount: 8000, reportBlocks: b)
                let n = (try? sr.write(to: out)) ?? 0
                let rr = RTCPReceiverReportWriter(ssrc: SSRC(1), reportBlocks: b)
                return n + ((try? rr.write(to: UnsafeMutableRawBufferPointer(rebasing: out[n...]))) ?? 0)
            }
        }
        buffer.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard let compound = try? RTCPCompoundPacket(parsing: bytes) else { continue }
                for packet in compound {
                    if case .senderReport(let sr)? = try? packet.message() { blackHole(sr.packetCount) }
                }
            }
        }
    }
}
