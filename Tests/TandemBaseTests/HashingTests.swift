import Testing
import TandemBase

@Suite struct HashingTests {
    @Test func digestsMatchPublishedVectors() {
        // RFC 1321 §A.5 and FIPS 180-2 appendix B.1.
        #expect(Digest.md5.hash("abc").hexString == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Digest.sha256.hash("abc").hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha1.hash("abc").hexString == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func hmacMatchesRFC4231Case2() {
        let mac = Digest.sha256.hmac(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func pbkdf2MatchesRFC7914Vector() throws {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1; first 32 bytes of the 64-byte output.
        let stored = "pbkdf2-sha256$1$" + Array("salt".utf8).hexString
            + "$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        #expect(try PasswordHash.verify("passwd", against: stored))
        #expect(try !PasswordHash.verify("passwe", against: stored))
    }

    @Test func passwordHashesAreSaltedAndVerify() throws {
        let a = try PasswordHash.make("correct horse", iterations: 1000)
        let b = try PasswordHash.make("correct horse", iterations: 1000)
        #expect(a != b)
        #expect(!a.contains("correct"))
        #expect(try PasswordHash.verify("correct horse", against: a))
        #expect(try !PasswordHash.verify("Correct horse", against: a))
    }

    @Test(arguments: ["", "plain", "pbkdf2-sha256$x$00$00", "pbkdf2-sha256$1$zz$" + String(repeating: "0", count: 64),
                      "pbkdf2-sha256$1$00$0011", "md5$1$00$" + String(repeating: "0", count: 64)])
    func malformedHashesAreRejected(stored: String) {
        #expect(throws: CryptoError.malformedPasswordHash) { try PasswordHash.verify("x", against: stored) }
    }

    @Test func generatedPasswordsUseTheAlphabetAndDiffer() {
        let a = SecureRandom.password(length: 24)
        let b = SecureRandom.password(length: 24)
        #expect(a.count == 24 && a != b)
        #expect(a.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(!a.contains("0") && !a.contains("O") && !a.contains("l"))
        #expect(SecureRandom.identifier().count == 32)
    }

    @Test func hexRoundTrips() {
        #expect([UInt8](hexString: "00ff10Ab") == [0, 255, 16, 171])
        #expect([UInt8](hexString: "abc") == nil)
        #expect([UInt8](hexString: "zz") == nil)
        #expect([UInt8](arrayLiteral: 1, 2, 254).hexString == "0102fe")
    }
}
