/// Errors from opening or using the store.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database could not be opened or migrated; `underlying` is the SQLite message.
    case cannotOpen(path: String, underlying: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let underlying): "cannot open the database at \(path): \(underlying)"
        }
    }
}
