import CBatchIO
import Foundation
import Testing

/// The batch-I/O shim on real loopback sockets.
@Suite struct BatchIOTests {
    func open(_ host: String) throws -> (fd: Int32, addr: tdm_addr) {
        var addr = tdm_addr()
        #expect(tdm_addr_parse(host, 0, &addr) == 0)
        var options = tdm_udp_options(reuse_addr: 1, reuse_port: 1, tos: 46 << 2, rcvbuf: 1 << 20, sndbuf: 1 << 20, pktinfo: 1)
        let fd = tdm_udp_open(&addr, &options)
        try #require(fd >= 0, "tdm_udp_open(\(host)) = \(fd)")
        var bound = tdm_addr()
        #expect(tdm_socket_local_addr(fd, &bound) == 0)
        #expect(bound.port != 0)
        return (fd, bound)
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func sendmmsgAndRecvmmsgCarryPayloadsAndAddresses(host: String) throws {
        let a = try open(host)
        let b = try open(host)
        defer { _ = tdm_close(a.fd); _ = tdm_close(b.fd) }
        let sendBatch = try #require(tdm_batch_create(16, 2048))
        let recvBatch = try #require(tdm_batch_create(32, 2048))
        defer { tdm_batch_destroy(sendBatch); tdm_batch_destroy(recvBatch) }

        for i in 0..<16 as Range<UInt32> {
            let buf = tdm_batch_buffer(sendBatch, i)!
            for j in 0..<172 { buf[j] = UInt8(truncatingIfNeeded: Int(i) &* 31 &+ j) }
            tdm_batch_set_length(sendBatch, i, 100 + i)
            tdm_batch_peer(sendBatch, i).pointee = b.addr
            tdm_batch_local(sendBatch, i).pointee = a.addr // explicit source via IP(V6)_PKTINFO
        }
        #expect(tdm_send_batch(a.fd, sendBatch, 0, 16) == 16)

        // Wait for readability with epoll rather than sleeping.
        let ep = tdm_epoll_create()
        defer { _ = tdm_close(ep) }
        #expect(tdm_epoll_add(ep, b.fd, UInt32(TDM_EPOLLIN), 42) == 0)
        var events = [tdm_event](repeating: tdm_event(), count: 8)
        let ready = tdm_epoll_wait(ep, &events, 8, 5000)
        #expect(ready == 1)
        #expect(events[0].data == 42)

        var received = 0
        while received < 16 {
            let n = tdm_recv_batch(b.fd, recvBatch)
            try #require(n >= 0)
            if n == 0 { _ = tdm_epoll_wait(ep, &events, 8, 5000); continue }
            for i in 0..<UInt32(n) {
                let k = UInt32(received) + i
                #expect(tdm_batch_length(recvBatch, i) == 100 + k)
                #expect(tdm_batch_buffer(recvBatch, i)![5] == UInt8(truncatingIfNeeded: Int(k) &* 31 &+ 5))
                var peer = tdm_batch_peer(recvBatch, i).pointee
                var expected = a.addr
                #expect(tdm_addr_equal(&peer, &expected) == 1)
                let local = tdm_batch_local(recvBatch, i).pointee
                #expect(local.family == b.addr.family)
                var text = [CChar](repeating: 0, count: 64)
                var l = local
                #expect(tdm_addr_format_host(&l, &text, 64) > 0)
                #expect(String(cString: text) == host)
            }
            received += Int(n)
        }
        #expect(tdm_recv_batch(b.fd, recvBatch) == 0)
    }

    @Test func socketOptionsAreApplied() throws {
        let s = try open("127.0.0.1")
        defer { _ = tdm_close(s.fd) }
        var rcv: Int32 = 0
        var snd: Int32 = 0
        #expect(tdm_socket_buffer_sizes(s.fd, &rcv, &snd) == 0)
        #expect(rcv > 0 && snd > 0)
        #expect(tdm_socket_set_tos(s.fd, 34 << 2) == 0)
    }

    @Test func bindingAPortInUseFails() throws {
        let s = try open("127.0.0.1")
        defer { _ = tdm_close(s.fd) }
        var addr = s.addr
        var options = tdm_udp_options()
        let again = tdm_udp_open(&addr, &options)
        #expect(again == -98) // EADDRINUSE without SO_REUSEPORT on the second socket
    }

    @Test func timerfdAndEventfdWakeEpoll() throws {
        let ep = tdm_epoll_create()
        let timer = tdm_timerfd_create(2_000_000) // 2 ms
        let wake = tdm_eventfd_create()
        defer { _ = tdm_close(ep); _ = tdm_close(timer); _ = tdm_close(wake) }
        try #require(ep >= 0 && timer >= 0 && wake >= 0)
        #expect(tdm_epoll_add(ep, timer, UInt32(TDM_EPOLLIN), 1) == 0)
        #expect(tdm_epoll_add(ep, wake, UInt32(TDM_EPOLLIN), 2) == 0)
        #expect(tdm_eventfd_signal(wake) == 0)
        #expect(tdm_eventfd_signal(wake) == 0)
        var events = [tdm_event](repeating: tdm_event(), count: 4)
        var sawTimer = false
        var sawWake = false
        for _ in 0..<20 where !(sawTimer && sawWake) {
            let n = tdm_epoll_wait(ep, &events, 4, 1000)
            for e in events.prefix(Int(max(0, n))) {
                if e.data == 1 { sawTimer = tdm_timerfd_read(timer) >= 1 || sawTimer }
                if e.data == 2 { #expect(tdm_eventfd_drain(wake) == 2); sawWake = true }
            }
        }
        #expect(sawTimer && sawWake)
        #expect(tdm_eventfd_drain(wake) == 0)
    }

    @Test func threadCanBePinned() async {
        #expect(tdm_available_cpus() >= 1)
        #expect(tdm_monotonic_ns() > 0)
        let cpu = tdm_available_cpus() - 1
        // Pin a thread of its own so the test runner's pool threads stay unpinned.
        let result: (Int32, Int32) = await withCheckedContinuation { done in
            let thread = Thread {
                let pinned = tdm_pin_current_thread(cpu)
                done.resume(returning: (pinned, tdm_current_cpu()))
            }
            thread.start()
        }
        #expect(result.0 == 0)
        #expect(result.1 == cpu)
    }
}
