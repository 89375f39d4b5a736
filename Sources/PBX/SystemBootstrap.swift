import Store
import TandemBase

/// First-start set-up: the system tenant and its administrator. There is no default password:
/// it comes from the operator (`TANDEM_ADMIN_PASSWORD`) or is generated and shown once.
public enum SystemBootstrap {
    /// The system administrator's login name.
    public static let administratorUsername = "admin"
    /// The system tenant's domain until an operator renames it.
    public static let systemDomain = "system.tandem.invalid"
    /// The shortest password accepted from the environment.
    public static let minimumPasswordLength = 8

    /// What first start did.
    public enum Outcome: Equatable, Sendable {
        /// The system administrator already existed; nothing changed.
        case alreadyInitialised
        /// Created with the operator-supplied password.
        case createdWithSuppliedPassword
        /// Created with this generated password, which the caller must show once and forget.
        case createdWithGeneratedPassword(String)
    }

    /// Errors the operator must fix.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case suppliedPasswordTooShort(minimum: Int)

        public var description: String {
            switch self {
            case .suppliedPasswordTooShort(let minimum):
                "TANDEM_ADMIN_PASSWORD must be at least \(minimum) characters long"
            }
        }
    }

    /// Ensures the system tenant and administrator exist. `suppliedPassword` is used only when creating.
    /// Slow (hashes a password) on first start; call it before serving.
    public static func run(store: TandemStore, suppliedPassword: String?,
                           iterations: UInt32 = PasswordHash.defaultIterations) throws -> Outcome {
        if try store.systemTenant() != nil { return .alreadyInitialised }
        let password: String
        let generated: Bool
        if let supplied = suppliedPassword, !supplied.isEmpty {
            guard supplied.count >= minimumPasswordLength else {
                throw Failure.suppliedPasswordTooShort(minimum: minimumPasswordLength)
            }
            password = supplied
            generated = false
        } else {
            password = SecureRandom.password(length: 20)
            generated = true
        }
        let tenant = Tenant(id: SecureRandom.identifier(), name: "System", domain: systemDomain, isSystem: true)
        let admin = Account(id: SecureRandom.identifier(), tenantID: tenant.id, username: administratorUsername,
                            passwordHash: try PasswordHash.make(password, iterations: iterations),
                            role: .systemAdministrator)
        guard try store.bootstrapSystem(tenant: tenant, administrator: admin) else { return .alreadyInitialised }
        return generated ? .createdWithGeneratedPassword(password) : .createdWithSuppliedPassword
    }
}
