/// Errors from opening or using the store.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database could not be opened or migrated; `underlying` is the SQLite message.
    case cannotOpen(path: String, underlying: String)
    /// Another tenant already uses this SIP domain (domains are unique, compared case-insensitively).
    case duplicateDomain(String)
    /// The tenant already has an extension with this number.
    case duplicateExtension(String)
    /// The tenant already has an extension group with this name.
    case duplicateGroup(String)
    /// The tenant already has an account with this user name.
    case duplicateAccount(String)
    /// The tenant is at its `maxExtensions` limit.
    case extensionLimitReached(limit: Int)
    /// No such record; `what` names it ("tenant 1f…", "extension 100").
    case notFound(String)
    /// The system tenant cannot be deleted.
    case cannotDeleteSystemTenant
    /// The domain is the digest realm of every stored SIP password (kept as HA1), so it cannot change while the
    /// tenant has extensions: their SIP passwords would silently stop working.
    case domainChangeWithExtensions
    /// A field failed validation; `reason` says which and why.
    case invalid(String)
    /// Any other database failure; `underlying` is the SQLite message.
    case database(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let underlying): "cannot open the database at \(path): \(underlying)"
        case .duplicateDomain(let d): "a tenant with the domain \(d) already exists"
        case .duplicateExtension(let n): "extension \(n) already exists in this tenant"
        case .duplicateGroup(let n): "extension group \(n) already exists in this tenant"
        case .duplicateAccount(let n): "account \(n) already exists in this tenant"
        case .extensionLimitReached(let limit): "the tenant already has its maximum of \(limit) extensions"
        case .notFound(let what): "\(what) not found"
        case .cannotDeleteSystemTenant: "the system tenant cannot be deleted"
        case .domainChangeWithExtensions:
            "the domain of a tenant with extensions cannot change (it is the realm of their stored SIP passwords)"
        case .invalid(let reason): reason
        case .database(let message): "database error: \(message)"
        }
    }
}
