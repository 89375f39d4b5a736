import Codecs
import Testing

@Suite struct OpusFormatParametersTests {
    @Test func parsesWebRTCStyleParameters() throws {
        let parameters = try OpusFormatParameters(parsing: "minptime=10; useinbandfec=1;stereo=0 ;sprop-stereo=1;x-google-min-bitrate=20")
        #expect(parameters.minPtime == 10)
        #expect(parameters.useInbandFEC == true)
        #expect(parameters.stereo == false)
        #expect(parameters.spropStereo == true)
        #expect(parameters.maxPlaybackRate == nil)
        #expect(parameters.extras == [.init(name: "x-google-min-bitrate", value: "20")])
    }

    @Test func writesEveryParameterAndParsesBack() throws {
        var parameters = OpusFormatParameters()
        parameters.maxPlaybackRate = 16000
        parameters.spropMaxCaptureRate = 16000
        parameters.maxAverageBitrate = 20000
        parameters.stereo = true
        parameters.spropStereo = false
        parameters.constantBitrate = true
        parameters.useInbandFEC = true
        parameters.useDTX = false
        parameters.ptime = 20
        parameters.minPtime = 10
        parameters.maxPtime = 60
        parameters.extras = [.init(name: "flag", value: nil)]
        let text = parameters.formatted
        #expect(text == "maxplaybackrate=16000;sprop-maxcapturerate=16000;maxaveragebitrate=20000;ptime=20;minptime=10;maxptime=60;"
            + "stereo=1;sprop-stereo=0;cbr=1;useinbandfec=1;usedtx=0;flag")
        #expect(try OpusFormatParameters(parsing: text) == parameters)
        #expect(OpusFormatParameters().formatted == "")
    }

    @Test(arguments: ["maxplaybackrate=4000", "maxaveragebitrate=600000", "stereo=2", "useinbandfec=yes", "usedtx",
                      "ptime=abc", "minptime=-5", "=1", "maxplaybackrate=99999999999999999999"])
    func rejectsOutOfRangeValues(text: String) {
        #expect(throws: CodecError.invalidFormatParameters) { try OpusFormatParameters(parsing: text) }
    }

    @Test func adaptingToTheRemoteCapsOurEncoder() {
        var remote = OpusFormatParameters()
        remote.maxPlaybackRate = 16000
        remote.maxAverageBitrate = 24000
        remote.useInbandFEC = true
        remote.ptime = 40
        let adapted = OpusEncoderConfiguration(channels: 2, bitrate: 64000).adapted(to: remote)
        #expect(adapted.maxPlaybackRate == 16000)
        #expect(adapted.bitrate == 24000)
        #expect(adapted.channels == 1)
        #expect(adapted.isInbandFECEnabled)
        #expect(!adapted.isDTXEnabled)
        #expect(adapted.frameMilliseconds == 40)
    }

    @Test func fuzzedParameterListsRoundTrip() throws {
        var random = CodecTestRandom(seed: 7587)
        let alphabet = Array("maxplybckrtesopuinbdfc-=;0123456789 \t=;;xyz".utf8)
        let seeds = ["minptime=10;useinbandfec=1", "maxplaybackrate=16000;stereo=1;cbr=0", "usedtx=1;sprop-maxcapturerate=8000"]
        var parsed = 0
        for round in 0..<20_000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<Int(random.next() % 4) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 3 {
                case 0: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let parameters = try? OpusFormatParameters(parsing: text) else { continue }
            parsed += 1
            let again = try OpusFormatParameters(parsing: parameters.formatted)
            #expect(again == parameters, "\(text)")
        }
        #expect(parsed > 1000)
    }
}

@Suite struct OpusDescriptorTests {
    @Test func offeredParametersParse() throws {
        let text = try #require(CodecDescriptor.opus.formatParameters)
        let parameters = try OpusFormatParameters(parsing: text)
        #expect(parameters.minPtime == 10 && parameters.useInbandFEC == true)
        #expect(parameters.formatted == text)
    }
}
