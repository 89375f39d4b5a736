import Testing
@testable import AdminAPI

@Test func placeholder() { #expect(Bool(true)) }
