import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `tandem` binary, next to the test bundle (or TANDEM_BINARY).
func tandemBinary() -> String {
    ProcessInfo.processInfo.environment["TANDEM_BINARY"] ?? builtExecutable("tandem")
}

/// A product of this package, built next to the test bundle.
func builtExecutable(_ name: String) -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // swift-testing on Linux runs `<bin>/TandemPackageTests.xctest`; the executables sit beside it.
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/" + name).path
}

/// Collects a pipe's output and lets a test wait, bounded, for a line matching a predicate.
final class OutputCollector: @unchecked Sendable {
    private struct Waiter {
        let id: UUID
        let predicate: (String) -> Bool
        let continuation: CheckedContinuation<String?, Never>
    }
    private let lock = NSLock()
    private var text = ""
    private var waiters: [Waiter] = []
    private var closed = false

    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self else { return }
            if data.isEmpty { h.readabilityHandler = nil; self.finish(); return }
            self.append(String(decoding: data, as: UTF8.self))
        }
    }

    var all: String { lock.withLock { text } }

    private func firstLine(_ predicate: (String) -> Bool) -> String? {
        text.split(separator: "\n").first(where: { predicate(String($0)) }).map(String.init)
    }

    private func append(_ s: String) {
        let ready: [(CheckedContinuation<String?, Never>, String)] = lock.withLock {
            text += s
            var hits: [(CheckedContinuation<String?, Never>, String)] = []
            waiters.removeAll { w in
                guard let line = firstLine(w.predicate) else { return false }
                hits.append((w.continuation, line))
                return true
            }
            return hits
        }
        for (c, line) in ready { c.resume(returning: line) }
    }

    private func finish() {
        let pending = lock.withLock { () -> [Waiter] in
            closed = true
            defer { waiters.removeAll() }
            return waiters
        }
        for w in pending { w.continuation.resume(returning: nil) }
    }

    /// The first line satisfying `predicate`, or nil when output ends or `seconds` pass first.
    func line(where predicate: @escaping @Sendable (String) -> Bool, within seconds: Double) async -> String? {
        let id = UUID()
        return await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            let immediate: String?? = lock.withLock {
                if let line = firstLine(predicate) { return .some(line) }
                if closed { return .some(nil) }
                waiters.append(Waiter(id: id, predicate: predicate, continuation: c))
                return nil
            }
            if let result = immediate { c.resume(returning: result); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                guard let self else { return }
                let timedOut = self.lock.withLock { () -> Waiter? in
                    guard let i = self.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return self.waiters.remove(at: i)
                }
                timedOut?.continuation.resume(returning: nil)
            }
        }
    }

    /// Waits (bounded) until the pipe closes.
    func waitForEnd(within seconds: Double) async {
        _ = await line(where: { _ in false }, within: seconds)
    }
}

/// A `tandem` process started by a test and always stopped by PID.
final class TandemProcess: @unchecked Sendable {
    let process = Process()
    let stdout: OutputCollector
    let stderr: OutputCollector
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var exitWaiters: [(UUID, CheckedContinuation<Int32?, Never>)] = []

    init(executable: String = tandemBinary(), arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TANDEM_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        stdout = OutputCollector(out.fileHandleForReading)
        stderr = OutputCollector(err.fileHandleForReading)
        process.terminationHandler = { [weak self] p in
            guard let self else { return }
            let waiters = self.lock.withLock { () -> [(UUID, CheckedContinuation<Int32?, Never>)] in
                self.exitStatus = p.terminationStatus
                defer { self.exitWaiters.removeAll() }
                return self.exitWaiters
            }
            for (_, c) in waiters { c.resume(returning: p.terminationStatus) }
        }
        try process.run()
    }

    /// Waits (bounded) for the process to exit and returns its status, or nil on time-out.
    func waitForExit(within seconds: Double = 30) async -> Int32? {
        let id = UUID()
        return await withCheckedContinuation { (c: CheckedContinuation<Int32?, Never>) in
            let done: Int32?? = lock.withLock {
                if let status = exitStatus { return .some(status) }
                exitWaiters.append((id, c))
                return nil
            }
            if let status = done { c.resume(returning: status); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                guard let self else { return }
                let waiter = self.lock.withLock { () -> CheckedContinuation<Int32?, Never>? in
                    guard let i = self.exitWaiters.firstIndex(where: { $0.0 == id }) else { return nil }
                    return self.exitWaiters.remove(at: i).1
                }
                waiter?.resume(returning: nil)
            }
        }
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs `tandem` to completion (bounded) and returns status, stdout and stderr.
func runTandem(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32?, String, String) {
    try await runProcess(tandemBinary(), arguments, environment: environment)
}

/// Runs any program to completion (bounded) and returns status, stdout and stderr.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                within seconds: Double = 30) async throws -> (Int32?, String, String) {
    let p = try TandemProcess(executable: executable, arguments: arguments, environment: environment)
    defer { if p.process.isRunning { p.signal(SIGKILL) } }
    let status = await p.waitForExit(within: seconds)
    await p.stdout.waitForEnd(within: 5)
    await p.stderr.waitForEnd(within: 5)
    return (status, p.stdout.all, p.stderr.all)
}

/// GET over HTTP/1.1 with URLSession.
func httpGet(_ url: String) async throws -> (Int, String, String?) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    let http = response as! HTTPURLResponse
    return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
}

func temporaryDataDirectory() -> String {
    NSTemporaryDirectory() + "tandem-server-\(UUID().uuidString)"
}
