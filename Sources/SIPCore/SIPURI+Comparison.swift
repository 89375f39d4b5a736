extension SIPURI {
    /// URI equivalence per RFC 3261 §19.1.4 (not `==`, which compares spelling): user and password
    /// case-sensitive, host case-insensitive, an absent port differs from an explicit one, the
    /// `user`, `ttl`, `method`, `maddr` and `transport` parameters must match when either side has them,
    /// other parameters only when both have them, and URI headers must match on both sides.
    public func isEquivalent(to other: SIPURI) -> Bool {
        guard scheme == other.scheme, user == other.user, password == other.password,
              host.lowercased() == other.host.lowercased(), port == other.port else { return false }
        let special: Set<String> = ["user", "ttl", "method", "maddr", "transport"]
        for p in parameters.items {
            let name = p.name.lowercased()
            let mine = p.value?.lowercased()
            if other.parameters.contains(name) {
                guard other.parameters[name]?.lowercased() == mine else { return false }
            } else if special.contains(name) {
                return false
            }
        }
        for p in other.parameters.items where special.contains(p.name.lowercased()) && !parameters.contains(p.name) {
            return false
        }
        func headerSet(_ u: SIPURI) -> [String: String] {
            var d: [String: String] = [:]
            for h in u.headers { d[h.name.lowercased()] = h.value ?? "" }
            return d
        }
        return headerSet(self) == headerSet(other)
    }
}
