import Foundation
import NIOCore
import PBX
import SIPCore
import SIPStack
import Store
import TandemBase
import Testing

@Suite struct RegistrarTests {
    @Test func challengesThenRegistersAndAnswersWithTheBinding() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let first = phone.register(contacts: ["<\(phone.contactURI)>"])
        let challenge = try #require(Phone.response(h.registrar.handle(first, source: phone.source, now: h.now)))
        #expect(challenge.statusCode == 401)
        let offered = try challenge.wwwAuthenticate
        #expect(offered.count == 1)
        #expect(offered.first?.realm == "alpha.example")
        #expect(offered.first?.qop == ["auth"])

        let ok = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"]))
        #expect(ok.statusCode == 200)
        #expect(ok.contactAddresses.count == 1)
        #expect(ok.contactAddresses.first?.uri.description == phone.contactURI)
        #expect(ok.contactAddresses.first?.expires == 3600)
        let bindings = h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now)
        #expect(bindings.count == 1)
        #expect(bindings.first?.source == phone.source)
        #expect(h.registrar.counters.registered == 1)
    }

    @Test func sha256ChallengesVerifyAgainstTheStoredHA1() throws {
        var configuration = Registrar.Configuration()
        configuration.challengeAlgorithms = [.sha256, .md5]
        let h = try RegistrarHarness(configuration: configuration)
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let first = phone.register(contacts: ["<\(phone.contactURI)>"])
        let challenge = try #require(Phone.response(h.registrar.handle(first, source: phone.source, now: h.now)))
        #expect(try challenge.wwwAuthenticate.map(\.algorithm) == [.sha256, .md5])
        let ok = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"]))
        #expect(ok.statusCode == 200)
    }

    @Test func severalContactsPerAddressWithQValuesOrdered() throws {
        let h = try RegistrarHarness()
        let desk = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "192.0.2.50")
        let soft = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "192.0.2.51")
        #expect(desk.send(h.registrar, now: h.now, contacts: ["<\(desk.contactURI)>;q=0.5"])?.statusCode == 200)
        h.advance(seconds: 1)
        let ok = try #require(soft.send(h.registrar, now: h.now, contacts: ["<\(soft.contactURI)>;q=0.9"]))
        #expect(ok.statusCode == 200)
        // The 200 lists every binding of the address, not just the one just added (RFC 3261 §10.3 step 8).
        #expect(Set(ok.contactAddresses.map(\.uri.host)) == ["192.0.2.50", "192.0.2.51"])
        let bindings = h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now)
        #expect(bindings.map(\.uri.host) == ["192.0.2.51", "192.0.2.50"])
        #expect(bindings.map(\.source.remote.ipAddress) == ["192.0.2.51", "192.0.2.50"])
    }

    @Test func refreshKeepsOneBindingAndExtendsIt() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 600)?.statusCode == 200)
        h.advance(seconds: 500)
        let ok = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 600))
        #expect(ok.statusCode == 200)
        #expect(ok.contactAddresses.map(\.expires) == [600])
        h.advance(seconds: 500)
        h.registrar.tick(now: h.now)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).count == 1)
        #expect(h.registrar.counters.refreshed == 1)
        #expect(h.registrar.counters.expired == 0)
    }

    @Test func expiryBelowTheMinimumIsRefusedWith423AndAboveTheMaximumIsShortened() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let brief = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 60))
        #expect(brief.statusCode == 423)
        #expect(try brief.minExpires == 300)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
        // The contact's own expires parameter wins over the header.
        let briefParam = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>;expires=299"], expires: 3600))
        #expect(briefParam.statusCode == 423)
        let long = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 86400))
        #expect(long.statusCode == 200)
        #expect(long.contactAddresses.map(\.expires) == [7200])
    }

    @Test func unregisterOneContactThenAllWithWildcard() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let a = "<sip:100@192.0.2.50:5062>", b = "<sip:100@192.0.2.50:5064>", c = "<sip:100@192.0.2.50:5066>"
        #expect(phone.send(h.registrar, now: h.now, contacts: [a, b, c])?.contactAddresses.count == 3)
        let afterOne = try #require(phone.send(h.registrar, now: h.now, contacts: [b], expires: 0))
        #expect(afterOne.statusCode == 200)
        #expect(afterOne.contactAddresses.map(\.uri.port) == [5062, 5066])
        // `*` needs Expires: 0 (RFC 3261 §10.2.2).
        #expect(phone.send(h.registrar, now: h.now, contacts: ["*"], expires: 3600)?.statusCode == 400)
        let afterAll = try #require(phone.send(h.registrar, now: h.now, contacts: ["*"], expires: 0))
        #expect(afterAll.statusCode == 200)
        #expect(afterAll.contactAddresses.isEmpty)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
        #expect(h.registrar.counters.unregistered == 3)
    }

    @Test func bindingsExpireOnTheInjectedClockAndAreReported() async throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 300)?.statusCode == 200)
        h.advance(seconds: 299)
        h.registrar.tick(now: h.now)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).count == 1)
        h.advance(seconds: 1)
        // Lookups never return a lapsed binding, even before the sweep.
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
        h.registrar.tick(now: h.now)
        #expect(h.registrar.location.bindingCount == 0)
        #expect(h.registrar.counters.expired == 1)

        var kinds: [RegistrationEvent.Kind] = []
        for await event in h.registrar.events {
            kinds.append(event.kind)
            if kinds.count == 2 { break }
        }
        #expect(kinds == [.registered, .expired])
    }

    @Test func wrongPasswordIsForbiddenAfterTheChallenge() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "wrong")
        let response = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"]))
        #expect(response.statusCode == 403)
        #expect(h.registrar.counters.authenticationFailures == 1)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
    }

    @Test func unknownExtensionGetsTheSameAnswersAsAWrongPassword() throws {
        let h = try RegistrarHarness()
        let ghost = Phone(user: "999", domain: "alpha.example", password: "whatever")
        let challenge = try #require(Phone.response(h.registrar.handle(ghost.register(contacts: ["<\(ghost.contactURI)>"]),
                                                                       source: ghost.source, now: h.now)))
        #expect(challenge.statusCode == 401)
        let ghost2 = Phone(user: "999", domain: "alpha.example", password: "whatever")
        let final = try #require(ghost2.send(h.registrar, now: h.now, contacts: ["<\(ghost2.contactURI)>"]))
        let wrong = Phone(user: "100", domain: "alpha.example", password: "whatever")
        let wrongFinal = try #require(wrong.send(h.registrar, now: h.now, contacts: ["<\(wrong.contactURI)>"]))
        #expect(final.statusCode == 403)
        #expect(final.statusCode == wrongFinal.statusCode)
        #expect(final.reasonPhraseForTest == wrongFinal.reasonPhraseForTest)
    }

    @Test func unknownDomainIsNotFound() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "nowhere.example", password: "x")
        let response = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"]))
        #expect(response.statusCode == 404)
        #expect(h.registrar.counters.unknownDomain == 1)
        #expect(h.registrar.counters.authenticationFailures == 0)
    }

    @Test func disabledExtensionIsForbiddenEvenWithTheRightPassword() throws {
        let h = try RegistrarHarness()
        let ext = try #require(try h.store.extensionRecord(tenantID: h.alpha.id, number: "101"))
        var settings = ext.settings
        settings.isEnabled = false
        try h.store.updateExtension(id: ext.id, settings: settings)
        let phone = Phone(user: "101", domain: "alpha.example", password: "alpha-101-secret")
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 403)
        #expect(h.registrar.counters.authenticationFailures == 0)
    }

    @Test func credentialsOfAnotherExtensionCannotRegisterThisOne() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-101-secret")
        let first = phone.register(contacts: ["<\(phone.contactURI)>"])
        let r1 = try #require(Phone.response(h.registrar.handle(first, source: phone.source, now: h.now)))
        let challenge = try #require(try r1.wwwAuthenticate.first)
        let credentials = try DigestClient.credentials(answering: challenge, method: "REGISTER", uri: "sip:alpha.example",
                                                       username: "101", password: "alpha-101-secret", cnonce: "abc")
        let second = phone.register(contacts: ["<\(phone.contactURI)>"], authorization: credentials)
        #expect(Phone.response(h.registrar.handle(second, source: phone.source, now: h.now))?.statusCode == 403)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
    }

    @Test func twoTenantsWithTheSameExtensionNumberAreKeptApart() throws {
        let h = try RegistrarHarness()
        let alpha = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "192.0.2.60")
        let beta = Phone(user: "100", domain: "beta.example", password: "beta-100-secret", ip: "192.0.2.70")
        #expect(alpha.send(h.registrar, now: h.now, contacts: ["<\(alpha.contactURI)>"])?.statusCode == 200)
        #expect(beta.send(h.registrar, now: h.now, contacts: ["<\(beta.contactURI)>"])?.statusCode == 200)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).map(\.uri.host) == ["192.0.2.60"])
        #expect(h.registrar.bindings(for: h.aor(h.beta, "100"), now: h.now).map(\.uri.host) == ["192.0.2.70"])
        // One tenant's password does not work in the other (the realm differs, and so does the secret).
        let crossed = Phone(user: "100", domain: "beta.example", password: "alpha-100-secret", ip: "192.0.2.80")
        #expect(crossed.send(h.registrar, now: h.now, contacts: ["<\(crossed.contactURI)>"])?.statusCode == 403)
        // Unregistering in one tenant leaves the other alone.
        #expect(alpha.send(h.registrar, now: h.now, contacts: ["*"], expires: 0)?.statusCode == 200)
        #expect(h.registrar.bindings(for: h.aor(h.beta, "100"), now: h.now).count == 1)
    }

    @Test func olderCSeqForTheSameCallIDChangesNothing() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        phone.cseq = 10
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 600)?.statusCode == 200)
        phone.cseq = 5  // the next two requests carry CSeqs 6 and 7, below the stored 12
        let stale = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"], expires: 0))
        #expect(stale.statusCode == 500)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).count == 1)
        #expect(h.registrar.counters.outOfOrder == 1)
    }

    @Test func aNewCallIDReplacesTheBindingOfTheSameContact() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 200)
        let rebooted = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        #expect(rebooted.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 200)
        let bindings = h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now)
        #expect(bindings.count == 1)
        #expect(bindings.first?.callID == rebooted.callID)
    }

    @Test func queryWithoutContactListsTheBindings() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 200)
        h.advance(seconds: 100)
        let query = try #require(phone.send(h.registrar, now: h.now, contacts: nil, expires: nil))
        #expect(query.statusCode == 200)
        #expect(query.contactAddresses.map(\.expires) == [3500])
    }

    @Test func contactsOverTheLimitDisplaceTheOldest() throws {
        var configuration = Registrar.Configuration()
        configuration.maximumContactsPerAddress = 2
        let h = try RegistrarHarness(configuration: configuration)
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        for port in [5070, 5072, 5074] {
            #expect(phone.send(h.registrar, now: h.now, contacts: ["<sip:100@192.0.2.50:\(port)>"])?.statusCode == 200)
            h.advance(seconds: 1)
        }
        #expect(Set(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).compactMap(\.uri.port)) == [5072, 5074])
    }

    @Test func natAndStreamContactsAreReachedOverTheirFlow() throws {
        let h = try RegistrarHarness()
        // Behind NAT: the Contact names a private address, the packet came from a public one.
        let natted = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "203.0.113.9", port: 40123)
        #expect(natted.send(h.registrar, now: h.now, contacts: ["<sip:100@10.0.0.5:5060>"])?.statusCode == 200)
        let direct = Phone(user: "101", domain: "alpha.example", password: "alpha-101-secret", ip: "192.0.2.50", port: 5062)
        #expect(direct.send(h.registrar, now: h.now, contacts: ["<\(direct.contactURI)>"])?.statusCode == 200)
        let nattedBinding = try #require(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).first)
        #expect(nattedBinding.route == .flow(natted.source))
        #expect(nattedBinding.source.remote.port == 40123)
        let directBinding = try #require(h.registrar.bindings(for: h.aor(h.alpha, "101"), now: h.now).first)
        #expect(directBinding.route == .contact(try SIPURI(parsing: direct.contactURI)))
    }

    @Test func streamContactsBehindNATDieWithTheirConnectionAndDirectOnesSurvive() throws {
        let h = try RegistrarHarness()
        let natConnection = SIPTransportConnectionID(rawValue: 11), directConnection = SIPTransportConnectionID(rawValue: 12)
        let natted = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "203.0.113.9",
                           port: 41000, kind: .tcp, connectionID: natConnection)
        #expect(natted.send(h.registrar, now: h.now, contacts: ["<sip:100@10.0.0.5:5060;transport=tcp>"])?.statusCode == 200)
        // A TCP client's source port is ephemeral; the same host as the Contact is not NAT.
        let direct = Phone(user: "101", domain: "alpha.example", password: "alpha-101-secret", ip: "192.0.2.50",
                           port: 41001, kind: .tcp, connectionID: directConnection)
        #expect(direct.send(h.registrar, now: h.now, contacts: ["<sip:101@192.0.2.50:5060;transport=tcp>"])?.statusCode == 200)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).first?.route == .flow(natted.source))
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "101"), now: h.now).first?.requiresFlow == false)
        h.registrar.flowClosed(natConnection)
        h.registrar.flowClosed(directConnection)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "101"), now: h.now).count == 1)
    }

    @Test func outboundRegistrationIsKeyedByInstanceAndRemovedWhenItsFlowCloses() throws {
        let h = try RegistrarHarness()
        let connection = SIPTransportConnectionID(rawValue: 7)
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "203.0.113.9",
                          port: 50000, kind: .tcp, connectionID: connection)
        let instance = "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""
        let ok = try #require(phone.send(h.registrar, now: h.now,
                                         contacts: ["<sip:100@10.0.0.5:5060;transport=tcp>;+sip.instance=\(instance);reg-id=1"],
                                         extra: [("Supported", "outbound, path")]))
        #expect(ok.statusCode == 200)
        #expect(ok.value("require") == "outbound")
        #expect(ok.value("flow-timer") == "120")
        // The same instance and reg-id from a new contact address (the NAT changed) replaces the binding.
        #expect(phone.send(h.registrar, now: h.now,
                           contacts: ["<sip:100@10.0.0.6:5060;transport=tcp>;+sip.instance=\(instance);reg-id=1"],
                           extra: [("Supported", "outbound")])?.statusCode == 200)
        let bindings = h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now)
        #expect(bindings.count == 1)
        #expect(bindings.first?.isOutbound == true)
        #expect(bindings.first?.route == .flow(phone.source))
        h.registrar.flowClosed(connection)
        #expect(h.registrar.bindings(for: h.aor(h.alpha, "100"), now: h.now).isEmpty)
    }

    @Test func unknownRequiredExtensionIsRefusedWith420() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let response = try #require(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"],
                                               extra: [("Require", "foo")]))
        #expect(response.statusCode == 420)
        #expect(response.value("unsupported") == "foo")
    }

    @Test func malformedHeadersAreAnswered400() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret")
        let bad = phone.register(contacts: ["<\(phone.contactURI)>"], expires: nil, extra: [("Expires", "soon")])
        #expect(Phone.response(h.registrar.handle(bad, source: phone.source, now: h.now))?.statusCode == 400)
    }
}

@Suite struct FailedAuthenticationTests {
    @Test func tenFailuresInTenSecondsBlockTheAddressForAnHour() throws {
        let h = try RegistrarHarness()
        let attacker = Phone(user: "100", domain: "alpha.example", password: "guess", ip: "198.51.100.66")
        for _ in 0..<9 {
            #expect(attacker.send(h.registrar, now: h.now, contacts: ["<\(attacker.contactURI)>"])?.statusCode == 403)
            h.now = h.now.adding(milliseconds: 1000)
        }
        #expect(!h.registrar.isBlocked(attacker.source, now: h.now))
        #expect(attacker.send(h.registrar, now: h.now, contacts: ["<\(attacker.contactURI)>"])?.statusCode == 403)
        #expect(h.registrar.isBlocked(attacker.source, now: h.now))
        // Blocked: no answer at all, even with the right password, and counted.
        attacker.password = "alpha-100-secret"
        let dropped = attacker.register(contacts: ["<\(attacker.contactURI)>"])
        guard case .drop = h.registrar.handle(dropped, source: attacker.source, now: h.now) else {
            Issue.record("a blocked source was answered")
            return
        }
        #expect(h.registrar.counters.droppedBlocked == 1)
        // Another address is unaffected.
        let honest = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "192.0.2.99")
        #expect(honest.send(h.registrar, now: h.now, contacts: ["<\(honest.contactURI)>"])?.statusCode == 200)
        // One hour later the block lifts.
        h.advance(seconds: 3599)
        #expect(h.registrar.isBlocked(attacker.source, now: h.now))
        h.advance(seconds: 1)
        h.registrar.tick(now: h.now)
        #expect(!h.registrar.isBlocked(attacker.source, now: h.now))
        #expect(attacker.send(h.registrar, now: h.now, contacts: ["<\(attacker.contactURI)>"])?.statusCode == 200)
    }

    @Test func failuresSpreadBeyondTheWindowDoNotBlock() throws {
        let h = try RegistrarHarness()
        let phone = Phone(user: "100", domain: "alpha.example", password: "typo", ip: "198.51.100.67")
        for _ in 0..<20 {
            #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 403)
            h.advance(seconds: 2)  // 5 failures per 10 s
        }
        #expect(!h.registrar.isBlocked(phone.source, now: h.now))
    }

    @Test func blockingIsConfigurable() throws {
        var configuration = Registrar.Configuration()
        configuration.guardConfiguration.failureLimit = 3
        configuration.guardConfiguration.blockMilliseconds = 60_000
        let h = try RegistrarHarness(configuration: configuration)
        let phone = Phone(user: "100", domain: "alpha.example", password: "typo", ip: "198.51.100.68")
        for _ in 0..<3 { _ = phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"]) }
        #expect(h.registrar.isBlocked(phone.source, now: h.now))
        h.advance(seconds: 60)
        #expect(!h.registrar.isBlocked(phone.source, now: h.now))
    }

    @Test func outstandingChallengesPerSourceAreLimited() throws {
        var configuration = Registrar.Configuration()
        configuration.guardConfiguration.maximumOutstandingChallenges = 5
        let h = try RegistrarHarness(configuration: configuration)
        let flood = Phone(user: "100", domain: "alpha.example", password: "x", ip: "198.51.100.70")
        var statuses: [Int?] = []
        for _ in 0..<8 {
            statuses.append(Phone.response(h.registrar.handle(flood.register(contacts: ["<\(flood.contactURI)>"]),
                                                              source: flood.source, now: h.now))?.statusCode)
        }
        #expect(statuses == [401, 401, 401, 401, 401, nil, nil, nil])
        #expect(h.registrar.counters.droppedChallengeLimit == 3)
        // Challenges not answered within the window stop counting.
        h.advance(seconds: 32)
        #expect(Phone.response(h.registrar.handle(flood.register(contacts: ["<\(flood.contactURI)>"]),
                                                  source: flood.source, now: h.now))?.statusCode == 401)
    }

    @Test func answeredChallengesDoNotCountAgainstManyPhonesBehindOneAddress() throws {
        var configuration = Registrar.Configuration()
        configuration.guardConfiguration.maximumOutstandingChallenges = 3
        let h = try RegistrarHarness(configuration: configuration)
        for port in 6000..<6010 {
            let phone = Phone(user: "100", domain: "alpha.example", password: "alpha-100-secret", ip: "203.0.113.1", port: port)
            #expect(phone.send(h.registrar, now: h.now, contacts: ["<\(phone.contactURI)>"])?.statusCode == 200)
        }
    }
}

extension SIPMessage {
    var reasonPhraseForTest: String? {
        if case .response(_, let reason) = startLine { return reason }
        return nil
    }
}
