import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks made before anything is written, so a bad start fails with one clear line and leaves nothing behind.
enum Preflight {
    /// Creates the data directory if needed and proves it writable.
    static func prepareDataDirectory(_ path: String) throws(PreflightError) {
        var isDirectory: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .dataDirectory(path, "it exists and is not a directory") }
        } else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw .dataDirectory(path, "cannot create it (\(Self.reason(error)))")
            }
        }
        let probe = (path as NSString).appendingPathComponent(".tandem-write-probe-\(getpid())")
        guard fm.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            throw .dataDirectory(path, "it is not writable (\(String(cString: strerror(errno))))")
        }
        try? fm.removeItem(atPath: probe)
    }

    /// Tries to bind a TCP (or UDP) socket on `host:port` and releases it at once.
    static func checkBindable(_ address: ListenAddress, what: String, flag: String, datagram: Bool = false) throws(PreflightError) {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        let status = getaddrinfo(host, String(address.port), &hints, &result)
        guard status == 0, let info = result else {
            throw .address(what, address.description, "not a numeric IPv4 or IPv6 address", flag)
        }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw .address(what, address.description, String(cString: strerror(errno)), flag) }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let err = errno
            let hint = err == EADDRINUSE ? "the port is already in use; stop the other program or choose another port"
                : String(cString: strerror(err))
            throw .address(what, address.description, hint, flag)
        }
    }

    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}

/// Why the server cannot start.
enum PreflightError: Error, CustomStringConvertible {
    case dataDirectory(String, String)
    case address(String, String, String, String)
    case file(String, String, String)

    var description: String {
        switch self {
        case .dataDirectory(let path, let why):
            "data directory \(path): \(why); choose another with --data or TANDEM_DATA"
        case .address(let what, let address, let why, let flag):
            "cannot listen for \(what) on \(address): \(why) (set it with \(flag))"
        case .file(let path, let why, let flag):
            "\(path): \(why) (set it with \(flag))"
        }
    }
}
