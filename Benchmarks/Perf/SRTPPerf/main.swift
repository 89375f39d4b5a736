// tandem-srtp-perf: Tandem's SRTP against libsrtp2 as Debian packages it, in one process and one run:
// protect + unprotect of the same 172-byte RTP packet (12-byte header + 160 bytes of G.711), sequence
// number advancing, for each SDES suite. Run through `perf/run srtp`, which pins it to one CPU.
import CReference
import Foundation
import SRTP

let iterations = 200_000
let runs = 5
var rows: [(SRTPSuite, Double, Double)] = []
var sink = 0

for (number, suite) in [(1, SRTPSuite.aesCM128HMACSHA1_80), (2, .aesCM128HMACSHA1_32), (3, .aeadAES128GCM), (4, .aeadAES256GCM)] {
    let key = (0..<suite.keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    let salt = (0..<suite.saltLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    guard let sender = try? SRTPContext(suite: suite, masterKey: key, masterSalt: salt),
          let receiver = try? SRTPContext(suite: suite, masterKey: key, masterSalt: salt) else {
        print("cannot create SRTP contexts for \(suite.rawValue)")
        exit(1)
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 16)
    defer { buffer.deallocate() }
    var seq: UInt16 = 0
    var best = Double.infinity
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            // The same packet libsrtp2's loop builds.
            buffer.initializeMemory(as: UInt8.self, repeating: 0x55)
            buffer[0] = 0x80
            buffer[1] = 0
            seq &+= 1
            buffer[2] = UInt8(seq >> 8)
            buffer[3] = UInt8(truncatingIfNeeded: seq)
            buffer[8] = 1; buffer[9] = 2; buffer[10] = 3; buffer[11] = 4
            do {
                let n = try sender.protect(buffer, length: 172)
                sink &+= try receiver.unprotect(buffer, length: n)
            } catch {
                print("Tandem SRTP failed: \(error)")
                exit(1)
            }
        }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
    }
    let keyAndSalt = key + salt
    let reference = keyAndSalt.withUnsafeBufferPointer {
        ref_srtp_protect_unprotect_ns(Int32(number), $0.baseAddress, Int32($0.count), Int32(iterations), Int32(runs))
    }
    guard reference > 0 else {
        print("libsrtp2 failed for \(suite.rawValue)")
        exit(1)
    }
    rows.append((suite, best, reference))
}

print("")
print("| suite | Tandem protect+unprotect (ns/packet) | libsrtp2 (ns/packet) | Tandem/libsrtp2 |")
print("| --- | ---: | ---: | ---: |")
for (suite, t, r) in rows {
    print("| \(suite.rawValue) | \(String(format: "%.0f", t)) | \(String(format: "%.0f", r)) | \(String(format: "%.3f", t / r)) |")
}
print("")
for (suite, t, r) in rows {
    print("RESULT srtp.protect_unprotect_172B.\(suite.rawValue).tandem/libsrtp2 \(String(format: "%.3f", t / r))")
}
if sink == 42 { print("") } // keeps the results observable
