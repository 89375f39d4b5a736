import NIOCore
import SIPCore
import Testing
@testable import SIPStack

@Suite struct TransportRoutingTests {
    @Test func receivedAddedWhenSentByDiffersAndRportFilled() throws {
        let via = try Via(parsing: "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-a;rport")
        let stamped = SIPTransportRouting.stamped(via, sourceIP: "203.0.113.7", sourcePort: 40123)
        #expect(stamped.received == "203.0.113.7")
        #expect(stamped.rport == .value(40123))
        #expect(stamped.branch == "z9hG4bK-a")
    }

    @Test func noReceivedWhenSentByMatchesWithoutRport() throws {
        let via = try Via(parsing: "SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-a")
        #expect(SIPTransportRouting.stamped(via, sourceIP: "203.0.113.7", sourcePort: 5060) == via)
        let v6 = try Via(parsing: "SIP/2.0/UDP [2001:db8::0:1]:5060;branch=z9hG4bK-b")
        #expect(SIPTransportRouting.stamped(v6, sourceIP: "2001:db8::1", sourcePort: 5060).received == nil)
    }

    @Test func rportRequestedAlwaysAddsReceived() throws {
        // RFC 3581 §4: with rport, received is added even when sent-by matches the source.
        let via = try Via(parsing: "SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-a;rport")
        let stamped = SIPTransportRouting.stamped(via, sourceIP: "203.0.113.7", sourcePort: 5060)
        #expect(stamped.received == "203.0.113.7")
        #expect(stamped.rport == .value(5060))
    }

    @Test func stampingRewritesOnlyTopVia() throws {
        let text = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-top;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-2\r\n"
            + "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        let message = try SIPMessage(parsing: Array(text.utf8))
        let source = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "198.51.100.2", port: 6000), local: nil, connectionID: nil)
        let stamped = try SIPTransportRouting.stampingReceived(message, source: source)
        let vias = try stamped.vias
        #expect(vias.count == 2)
        #expect(vias[0].received == "198.51.100.2")
        #expect(vias[0].rport == .value(6000))
        #expect(vias[1].received == nil)
        #expect(vias[1].branch == "z9hG4bK-2")
        #expect(try stamped.callID == "c")
        // Responses pass through untouched.
        let response = try SIPMessage(parsing: try SIPMessageBuilder.response(to: message, statusCode: 200).bytes())
        #expect(try SIPTransportRouting.stampingReceived(response, source: source).bytes == response.bytes)
    }

    @Test func responseRouteUDP() throws {
        let src = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "198.51.100.2", port: 6000), local: nil, connectionID: nil)
        let withRport = try Via(parsing: "SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bK-a;received=198.51.100.2;rport=6000")
        #expect(SIPTransportRouting.responseRoute(topVia: withRport, source: src) == .address(kind: .udp, host: "198.51.100.2", port: 6000))
        let receivedOnly = try Via(parsing: "SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bK-a;received=198.51.100.2")
        #expect(SIPTransportRouting.responseRoute(topVia: receivedOnly, source: src) == .address(kind: .udp, host: "198.51.100.2", port: 5080))
        let plain = try Via(parsing: "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-a")
        #expect(SIPTransportRouting.responseRoute(topVia: plain, source: src) == .address(kind: .udp, host: "10.0.0.5", port: 5060))
        let maddr = try Via(parsing: "SIP/2.0/UDP 10.0.0.5:5090;branch=z9hG4bK-a;maddr=239.1.1.1")
        #expect(SIPTransportRouting.responseRoute(topVia: maddr, source: src) == .address(kind: .udp, host: "239.1.1.1", port: 5090))
    }

    @Test func responseRouteStreamUsesConnectionThenFallsBack() throws {
        let id = SIPTransportConnectionID(rawValue: 3)
        let src = SIPTransportSource(kind: .tls, remote: try SocketAddress(ipAddress: "198.51.100.2", port: 40000), local: nil, connectionID: id)
        let via = try Via(parsing: "SIP/2.0/TLS client.invalid;branch=z9hG4bK-a;received=198.51.100.2")
        #expect(SIPTransportRouting.responseRoute(topVia: via, source: src) == .connection(id))
        #expect(SIPTransportRouting.responseRoute(topVia: via, source: src, connectionIsOpen: false)
            == .address(kind: .tls, host: "198.51.100.2", port: 5061))
    }

    @Test(arguments: [(1300, SIPTransportKind.udp), (1301, .tcp), (200, .udp)])
    func largeUDPRequestsSwitchToTCP(size: Int, expected: SIPTransportKind) {
        #expect(SIPTransportRouting.transport(forRequestOfSize: size, preferred: .udp) == expected)
    }

    @Test func switchRespectsPathMTUAndOtherTransports() {
        #expect(SIPTransportRouting.transport(forRequestOfSize: 8000, preferred: .udp, pathMTU: 9000) == .udp)
        #expect(SIPTransportRouting.transport(forRequestOfSize: 9000, preferred: .tls) == .tls)
    }

    @Test func connectionTableReuseAndPerIPLimit() throws {
        var table = SIPConnectionTable<String>(maximumPerIP: 2)
        let a1 = try SocketAddress(ipAddress: "198.51.100.2", port: 4000)
        let a2 = try SocketAddress(ipAddress: "198.51.100.2", port: 4001)
        let b = try SocketAddress(ipAddress: "198.51.100.3", port: 4000)
        #expect(table.admits(a1))
        let insertedOne = table.insert("one", id: .init(rawValue: 1), kind: .tcp, remote: a1)
        let insertedDuplicate = table.insert("dup", id: .init(rawValue: 1), kind: .tcp, remote: a1)
        let insertedTwo = table.insert("two", id: .init(rawValue: 2), kind: .tls, remote: a2)
        #expect(insertedOne)
        #expect(!insertedDuplicate)
        #expect(insertedTwo)
        #expect(!table.admits(a2))
        #expect(table.admits(b))
        #expect(table.connection(kind: .tcp, remote: a1)?.connection == "one")
        #expect(table.connection(kind: .tls, remote: a1) == nil)
        #expect(table.connection(.init(rawValue: 2)) == "two")
        let removed = table.remove(.init(rawValue: 1))
        #expect(removed == "one")
        #expect(table.admits(a2))
        #expect(table.connection(kind: .tcp, remote: a1) == nil)
        #expect(table.connectionCount(fromIP: "198.51.100.2") == 1)
        let removedAgain = table.remove(.init(rawValue: 1))
        #expect(removedAgain == nil)
    }

    @Test func viaTokensRoundTrip() {
        for kind in SIPTransportKind.allCases {
            #expect(SIPTransportKind(viaToken: kind.viaToken.lowercased()) == kind)
        }
        #expect(SIPTransportKind(viaToken: "SCTP") == nil)
    }
}
