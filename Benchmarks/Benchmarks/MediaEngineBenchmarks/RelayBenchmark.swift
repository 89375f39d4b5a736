import Benchmark
import BenchmarkSupport
import MediaEngine

#if canImport(Glibc)
import Glibc
#endif

// MediaEngine.Relay.loopback.batch16: the whole relay path on a real engine — a sender socket sends 16
// RTP packets to leg A, the worker thread (recvmmsg → source check → demux → statistics → forward →
// sendmmsg) relays them to leg B's endpoint, and a receiver socket reads all 16. One scaled iteration
// is one batch of 16 packets, so a sample of 1,000 iterations relays 16,000 packets.
//
// Allocation gate across threads: package-benchmark's malloc interposer (malloc-interposer, the
// MallocInterposer trait) keeps per-thread counters and sums the counters of all live threads (plus
// those of exited ones) when the harness reads them, so mallocCountTotal includes allocations made on
// the engine's worker and event-pump threads during the measured region, not only on this thread.
// Checked on 2026-11-23 (2-core EPYC VM) by temporarily adding one `UnsafeMutablePointer.allocate` +
// `deallocate` per relayed packet in `MediaWorker.forward`: mallocCountTotal (reported per scaled
// iteration, i.e. per batch) went from 0 at every percentile to 16 at every percentile — exactly one
// per packet relayed on the worker thread — so a per-packet allocation there fails the gate (8).

/// A blocking IPv4 UDP socket on 127.0.0.1 with a 1 s receive timeout (so a lost datagram cannot hang
/// the benchmark). Plain POSIX calls on caller-owned buffers: nothing allocates per datagram.
final class LoopbackUDPSocket {
    let fd: Int32
    let port: UInt16

    init() {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(s >= 0, "socket")
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(bound == 0, "bind")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = s
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return a
    }

    /// Sends `length` bytes from `bytes` to `destination`.
    @inline(__always)
    func send(_ bytes: UnsafeRawPointer, length: Int, to destination: UnsafePointer<sockaddr_in>) -> Bool {
        destination.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, bytes, length, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        } == length
    }

    /// Receives one datagram into `buffer`; its length, or -1 after the timeout.
    @inline(__always)
    func receive(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        recv(fd, buffer, capacity, 0)
    }
}

/// One engine with one worker, one session of two linked legs, and the two endpoint sockets; built once
/// in the benchmark's setup, shared with its closure.
final class RelayFixture: @unchecked Sendable {
    static let batch = 16
    static let packetSize = 172  // 12-byte RTP header + 160 bytes of PCMU

    let engine: MediaEngine
    let sender = LoopbackUDPSocket()
    let receiver = LoopbackUDPSocket()
    let destination: UnsafeMutablePointer<sockaddr_in>
    let packet: UnsafeMutableRawPointer
    let received: UnsafeMutableRawPointer
    var sequence: UInt16 = 0
    var timestamp: UInt32 = 0
    /// Datagrams the receiver did not get within its timeout (should stay 0 on loopback).
    var lost = 0

    init() async throws {
        engine = try MediaEngine(configuration: MediaEngineConfiguration(
            workerCount: 1, portRange: try RTPPortRange(43000, 43019), bindAddress: "127.0.0.1",
            bindAddressIPv6: "::1", pinsWorkers: false))
        try engine.start()
        let session = try await engine.createSession(id: "bench")
        let a = try await engine.addLeg(to: session)
        let b = try await engine.addLeg(to: session)
        try await engine.link(a.leg, b.leg)
        try await engine.updateLeg(b.leg, LegUpdate(remoteRTP: MediaAddress(host: "127.0.0.1", port: Int(receiver.port))))
        destination = .allocate(capacity: 1)
        destination.initialize(to: LoopbackUDPSocket.loopback(port: UInt16(a.rtpPort)))
        packet = .allocate(byteCount: 2048, alignment: 16)
        received = .allocate(byteCount: 2048, alignment: 16)
        // RTP v2, PT 0 (PCMU), SSRC 0x0BE7C4; sequence number and timestamp filled per packet.
        let header: [UInt8] = [0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x0B, 0xE7, 0xC4]
        for (i, byte) in header.enumerated() { packet.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
        for i in 12..<Self.packetSize { packet.storeBytes(of: 0xD5, toByteOffset: i, as: UInt8.self) }
        // Warm-up outside the measured region: the first packet latches A and starts the stream
        // (an event through the pump thread's AsyncStream, which allocates).
        for _ in 0..<64 { relayBatch() }
    }

    deinit {
        engine.stop()
        destination.deallocate()
        packet.deallocate()
        received.deallocate()
    }

    /// Sends one batch to leg A and reads it back at B's endpoint.
    @inline(__always)
    func relayBatch() {
        for _ in 0..<Self.batch {
            packet.storeBytes(of: sequence.bigEndian, toByteOffset: 2, as: UInt16.self)
            packet.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
            sequence &+= 1
            timestamp &+= 160
            _ = sender.send(packet, length: Self.packetSize, to: destination)
        }
        for _ in 0..<Self.batch where receiver.receive(into: received, capacity: 2048) != Self.packetSize {
            lost += 1
        }
    }
}

/// Holds the fixture between the benchmark's setup, closure and teardown.
final class RelayFixtureBox: @unchecked Sendable {
    var fixture: RelayFixture?
}

let relayFixture = RelayFixtureBox()

func relayBenchmarks() {
    // Each sample is 16,000 packets round trip through the kernel (~0.2–0.5 s here): a longer run
    // than the default, for more than a handful of samples.
    Benchmark(
        "MediaEngine.Relay.loopback.batch16",
        configuration: .tandemHotPath(maxDuration: .seconds(6)),
        closure: { benchmark in
            guard let fixture = relayFixture.fixture else { return }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { fixture.relayBatch() }
            benchmark.stopMeasurement()
            blackHole(fixture.lost)
        },
        setup: { relayFixture.fixture = try await RelayFixture() },
        teardown: {
            if let lost = relayFixture.fixture?.lost, lost > 0 { print("MediaEngine.Relay: \(lost) datagrams lost") }
            relayFixture.fixture = nil
        })
}
