import Foundation
import NIOCore
import NIOPosix
import SIPCore
import Testing
@testable import SIPStack

/// Interop with a WebSocket client that shares no code with NIO: a raw-socket Python client doing the RFC 6455
/// handshake and framing by hand (standard library only). Skipped when python3 is not on PATH.
@Suite struct TransportWebSocketInteropTests {
    static let python: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = String(directory) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Upgrades offering "sip", checks the accept key and the selected subprotocol, sends argv[3] in one masked
    /// text frame, prints the opcode of the first frame back and its payload. Socket timeouts bound every step.
    static let client = #"""
    import base64, hashlib, os, socket, struct, sys
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    s = socket.create_connection((host, port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n" % key).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk: sys.exit("closed during handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    if lines[0].split(" ")[1] != "101": sys.exit("no upgrade: " + lines[0])
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    if headers.get("sec-websocket-accept") != accept: sys.exit("bad accept key")
    if headers.get("sec-websocket-protocol", "").lower() != "sip": sys.exit("sip subprotocol not selected")
    mask = os.urandom(4)
    n = len(message)
    header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(message)))
    def need(k):
        global rest
        while len(rest) < k:
            chunk = s.recv(4096)
            if not chunk: sys.exit("closed before the answer")
            rest += chunk
        out, rest = rest[:k], rest[k:]
        return out
    b0, b1 = need(2)
    if b1 & 0x80: sys.exit("server masked its frame")
    n = b1 & 0x7F
    if n == 126: n = struct.unpack("!H", need(2))[0]
    elif n == 127: n = struct.unpack("!Q", need(8))[0]
    payload = need(n)
    sys.stdout.write("opcode=%d\n" % (b0 & 0x0F))
    sys.stdout.write(payload.decode())
    """#

    struct PythonFailed: Error, CustomStringConvertible {
        let status: Int32
        let stderr: String
        var description: String { "python3 exited \(status): \(stderr)" }
    }

    /// Runs the client; the wait is bounded by a timer that terminates the process.
    static func runClient(python: String, host: String, port: Int, message: String, loop: any EventLoop) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", client, host, String(port), message]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let exited = loop.makePromise(of: Int32.self)
        process.terminationHandler = { exited.succeed($0.terminationStatus) }
        try process.run()
        let timer = loop.scheduleTask(in: .seconds(15)) { process.terminate() }
        defer { timer.cancel() }
        let status = try await exited.futureResult.get()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard status == 0 else {
            throw PythonFailed(status: status, stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return output
    }

    @Test(.enabled(if: python != nil, "python3 not found on PATH: raw-socket WebSocket interop not checked"))
    func rawPythonClientGetsTheAnswer() async throws {
        let python = try #require(Self.python)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let (server, inbox) = try TransportWebSocketTests().makeResponder()
        let address = try await server.listen(.ws, host: "127.0.0.1", port: 0).get()
        let request = String(decoding: TransportWebSocketTests.options(branch: "z9hG4bK-py"), as: UTF8.self)
        let output = try await Self.runClient(python: python, host: "127.0.0.1", port: try #require(address.port),
                                              message: request, loop: loop)
        #expect(try await inbox.next().message.method == .options)
        let (first, rest) = (output.prefix { $0 != "\n" }, output.drop { $0 != "\n" }.dropFirst())
        #expect(first == "opcode=1")
        let response = try Array(rest.utf8).withUnsafeBytes { raw throws(SIPParseError) in try SIPMessage(parsing: raw) }
        #expect(response.statusCode == 200)
        #expect(try response.callID == "call-z9hG4bK-py")
        try await server.shutdown().get()
    }
}
