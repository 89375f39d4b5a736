import Benchmark
import BenchmarkSupport
import Codecs
import Foundation
@_spi(Benchmarks) import MediaEngine
import TandemBase

/// Counts what the room sends, so the packets are not optimised away.
private struct ConferenceCountingSink: ConferenceOutputSink {
    var packets = 0
    var bytes = 0
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
        packets &+= 1
        bytes &+= packet.count
    }
}

/// A 16 kHz room with `participants` L16 participants, the first `talkers` sending tones and the rest silence,
/// warmed for 5 s of simulated time (jitter buffers playing, talkers selected). `tick(receive:)` delivers one
/// packet per participant (when `receive`) and runs one 20 ms frame.
private final class ConferenceFixture {
    let room: ConferenceRoom
    var ids: [Int] = []
    var sink = ConferenceCountingSink()
    let format: AudioEndpointFormat
    let talk: [[UInt8]]
    let quiet: [UInt8]
    var packet = [UInt8](repeating: 0, count: 2000)
    var clock: UInt64 = 1_000_000_000
    var frame = 0
    let talkers: Int

    init(format: AudioEndpointFormat, participants: Int, talkers: Int) {
        self.format = format
        self.talkers = talkers
        room = try! ConferenceRoom()
        for i in 0..<participants { ids.append(try! room.join(format: format, ssrc: UInt32(i + 1))) }
        let rate = format.codec.sampleRate
        let g711 = G711Encoder(law: .uLaw, frameSamples: rate / 50)
        let l16 = try! L16Encoder(sampleRate: rate, channels: 1, frameSamples: rate / 50)
        func encode(_ hz: Double, _ amplitude: Double) -> [UInt8] {
            let pcm = (0..<rate / 50).map { Int16(amplitude * sin(2 * .pi * hz * Double($0) / Double(rate))) }
            var out = [UInt8](repeating: 0, count: 2000)
            let n = pcm.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBytes { o in
                    format.codec.name == "PCMU" ? try! g711.encode(p, into: o) : try! l16.encode(p, into: o)
                }
            }
            return Array(out[0..<n])
        }
        // 20 ms of 400/600/… Hz are whole periods at 8 and 16 kHz: the same payload repeats seamlessly.
        talk = (0..<talkers).map { encode(400 + 200 * Double($0), 3000 + 1000 * Double($0)) }
        quiet = encode(400, 0)
        for _ in 0..<250 { tick(receive: true) }
    }

    func tick(receive: Bool) {
        let now = Instant(nanoseconds: clock)
        if receive {
            let step = UInt32(format.codec.timestampIncrement(milliseconds: 20))
            for (i, id) in ids.enumerated() {
                let source = i < talkers ? talk[i] : quiet
                packet.withUnsafeMutableBytes { p in
                    p[0] = 0x80
                    p[1] = format.payloadType
                    p.storeBytes(of: UInt16(truncatingIfNeeded: frame).bigEndian, toByteOffset: 2, as: UInt16.self)
                    p.storeBytes(of: (UInt32(truncatingIfNeeded: frame) &* step).bigEndian, toByteOffset: 4, as: UInt32.self)
                    p.storeBytes(of: UInt32(i + 100).bigEndian, toByteOffset: 8, as: UInt32.self)
                    source.withUnsafeBytes { (p.baseAddress! + 12).copyMemory(from: $0.baseAddress!, byteCount: source.count) }
                    room.receive(participant: id, UnsafeRawBufferPointer(rebasing: p[0..<12 + source.count]), now: now)
                }
            }
        }
        room.produce(now: now, sink: &sink)
        while room.nextEvent() != nil {}
        clock += 20_000_000
        frame += 1
    }
}

/// The conference mixer, one 20 ms frame per iteration. `mix.*` re-mixes already decoded frames
/// (`skipsCodecs`): talk state, N-loudest selection, int32 sum, sum-minus-self, saturation, one shared L16
/// encode and one RTP packet per listener, i.e. the mixer without jitter buffers and codecs; divide by the
/// participant count for the per-participant figure (goal ≤ 0.25 µs at 16 kHz). `tick.pcmu5party` is the full
/// frame: five PCMU packets in, decode, mix, encode, five packets out. Allocation counts are gated (zero).
func conferenceBenchmarks() {
    Benchmark("MediaEngine.Conference.mix.5party") { benchmark in
        let fixture = ConferenceFixture(format: AudioEndpointFormat(codec: .l16Mono16k, payloadType: 96),
                                        participants: 5, talkers: 5)
        fixture.room.skipsCodecs = true
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { fixture.tick(receive: false) }
        blackHole(fixture.sink.bytes)
    }
    Benchmark("MediaEngine.Conference.mix.100party4talkers",
              configuration: .tandemHotPath(maxIterations: 2_000)) { benchmark in
        let fixture = ConferenceFixture(format: AudioEndpointFormat(codec: .l16Mono16k, payloadType: 96),
                                        participants: 100, talkers: 4)
        fixture.room.skipsCodecs = true
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { fixture.tick(receive: false) }
        blackHole(fixture.sink.bytes)
    }
    Benchmark("MediaEngine.Conference.tick.pcmu5party") { benchmark in
        let fixture = ConferenceFixture(format: AudioEndpointFormat(codec: .pcmu, payloadType: 0),
                                        participants: 5, talkers: 5)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { fixture.tick(receive: true) }
        blackHole(fixture.sink.bytes)
    }
}
