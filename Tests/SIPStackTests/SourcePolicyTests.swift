import NIOCore
import NIOPosix
import SIPCore
import Testing
@testable import SIPStack

/// Allow/deny lists by address range and the per-source packet rate: the pure gate, then on real UDP sockets.
@Suite struct SourcePolicyTests {
    static func address(_ ip: String) throws -> SocketAddress { try SocketAddress(ipAddress: ip, port: 5060) }

    @Test func rangesParseAndMatchByPrefix() throws {
        let ten = try #require(SIPAddressRange("10.1.2.3/8"))
        #expect(ten.description == "10.0.0.0/8")
        #expect(ten.contains(try Self.address("10.200.0.1")))
        #expect(!ten.contains(try Self.address("11.0.0.1")))
        #expect(!ten.contains(try Self.address("::ffff:10.0.0.1")))
        let host = try #require(SIPAddressRange("192.0.2.7"))
        #expect(host.prefixLength == 32)
        #expect(host.contains(try Self.address("192.0.2.7")))
        #expect(!host.contains(try Self.address("192.0.2.8")))
        let v6 = try #require(SIPAddressRange("2001:db8::/32"))
        #expect(v6.contains(try Self.address("2001:db8:ffff::1")))
        #expect(!v6.contains(try Self.address("2001:db9::1")))
        let odd = try #require(SIPAddressRange("172.16.0.0/12"))
        #expect(odd.contains(try Self.address("172.31.255.255")))
        #expect(!odd.contains(try Self.address("172.32.0.0")))
        for bad in ["", "10.0.0.0/33", "::1/129", "example.com", "10.0.0.0/x", "1.2.3"] { #expect(SIPAddressRange(bad) == nil, "\(bad)") }
    }

    @Test func listsDecideBeforeTheRate() throws {
        var policy = SIPSourcePolicy()
        policy.allow = [try #require(SIPAddressRange("10.0.0.0/8"))]
        policy.deny = [try #require(SIPAddressRange("10.9.0.0/16"))]
        let gate = SIPSourceGate(policy: policy)
        #expect(gate.check(try Self.address("10.1.1.1"), now: 0) == .admit)
        #expect(gate.check(try Self.address("10.9.1.1"), now: 0) == .denied)
        #expect(gate.check(try Self.address("127.0.0.1"), now: 0) == .denied)
        #expect(gate.admitsConnection(from: try Self.address("10.1.1.1")))
        #expect(!gate.admitsConnection(from: try Self.address("10.9.0.1")))
    }

    @Test func theRateAllowsABurstThenTheSustainedRate() throws {
        var policy = SIPSourcePolicy()
        policy.packetsPerSecond = 10
        policy.burst = 5
        let gate = SIPSourceGate(policy: policy)
        let a = try Self.address("192.0.2.1")
        let b = try Self.address("192.0.2.2")
        let burst = (0..<10).map { _ in gate.check(a, now: 1_000_000_000) }
        #expect(burst.filter { $0 == .admit }.count == 6)
        #expect(burst.suffix(4).allSatisfy { $0 == .rateLimited })
        // Another source is not affected; a second later the first has its whole burst back (and no more).
        #expect(gate.check(b, now: 1_000_000_000) == .admit)
        #expect((0..<10).map { _ in gate.check(a, now: 2_000_000_000) }.filter { $0 == .admit }.count == 6)
        policy.packetsPerSecond = 0
        let open = SIPSourceGate(policy: policy)
        #expect((0..<1000).allSatisfy { _ in open.check(a, now: 0) == .admit })
    }

    @Test func theTableIsBoundedAndForgetsDrainedSources() throws {
        var policy = SIPSourcePolicy()
        policy.packetsPerSecond = 1000
        policy.maximumTrackedSources = 4
        let gate = SIPSourceGate(policy: policy)
        for i in 1...6 { #expect(gate.check(try Self.address("198.51.100.\(i)"), now: 0) == .admit) }
        #expect(gate.untracked == 2)
        // A second later every bucket has drained: the table makes room again.
        #expect(gate.check(try Self.address("198.51.100.9"), now: 1_000_000_000) == .admit)
        #expect(gate.untracked == 2)
    }

    @Test func udpFromADeniedOrFloodingSourceIsDroppedAndCounted() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inbox = TransportInbox(loop: loop)
        var configuration = SIPTransportLayer.Configuration()
        configuration.sourcePolicy.deny = [try #require(SIPAddressRange("127.0.0.2"))]
        configuration.sourcePolicy.packetsPerSecond = 1
        configuration.sourcePolicy.burst = 2
        let server = try SIPTransportLayer(eventLoop: loop, configuration: configuration) { inbox.deliver($0) }
        let denied = try SIPTransportLayer(eventLoop: loop) { _ in }
        let flooding = try SIPTransportLayer(eventLoop: loop) { _ in }
        let serverAddress = try await server.listen(.udp, host: "127.0.0.1", port: 0).get()
        _ = try await denied.listen(.udp, host: "127.0.0.2", port: 0).get()
        _ = try await flooding.listen(.udp, host: "127.0.0.1", port: 0).get()
        let destination = SIPTransportDestination(kind: .udp, address: serverAddress)

        _ = try await denied.send(transportTestBuffer(transportTestOptions(branch: "z9hG4bK-denied")), to: destination).get()
        for i in 0..<10 {
            _ = try await flooding.send(transportTestBuffer(transportTestOptions(branch: "z9hG4bK-f\(i)")), to: destination).get()
        }
        // The burst (1 + 2) gets through, in order; nothing from the denied source.
        for i in 0..<3 {
            let m = try await inbox.next()
            #expect(try m.message.vias[0].branch == "z9hG4bK-f\(i)")
        }
        var counts = server.counters.snapshot(.udp)
        for _ in 0..<200 where counts.rateLimited < 7 || counts.denied < 1 {
            try await Task.sleep(for: .milliseconds(10))  // bounded wait for the loop to read the last datagrams
            counts = server.counters.snapshot(.udp)
        }
        #expect(counts.denied == 1)
        #expect(counts.rateLimited == 7)
        #expect(counts.received == 3)
        try await denied.shutdown().get()
        try await flooding.shutdown().get()
        try await server.shutdown().get()
    }
}
