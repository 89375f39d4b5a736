import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Store
import TandemBase

/// The REST API under `/api/v1`. Every route but login, refresh, logout and the OpenAPI document needs a
/// credential; every object is looked up within what the caller may see, and anything else is 404.
enum AdminAPIRoutes {
    static func register(on router: Router<APIRequestContext>, service s: AdminAPIService) {
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        registerAuth(api, s)
        let authed = api.group().add(middleware: AuthMiddleware(service: s))
        authed.get("auth/me") { _, context in try APIJSON.response(CallerDTO(caller: try context.requireCaller())) }
        registerAPIKeys(authed, s)
        registerTenants(authed, s)
        registerExtensions(authed, s)
        registerGroups(authed, s)
        registerStatus(authed, s)
        registerCallRecords(authed, s)
        registerActiveCalls(authed, s)
        registerRecordings(authed, s)  // RecordingRoutes.swift
        registerCallHold(authed, s)  // CallHoldRoutes.swift
        registerMediaSessions(authed, s)  // MediaSessionRoutes.swift
        registerCallActions(authed, s)  // CallActionRoutes.swift
        registerWebhooks(authed, s)
        authed.get("events") { _, _ -> Response in
            throw Problem(status: .upgradeRequired, type: "upgrade-required", title: "Upgrade required",
                          detail: "the event feed is a WebSocket: send a WebSocket upgrade request")
        }
    }

    // MARK: Auth

    static func registerAuth(_ api: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        api.post("auth/login") { request, context -> Response in
            var body = try await JSONBody.read(request, context: context)
            let username = body.requiredString("username")
            let password = body.requiredString("password", maxLength: 1024)
            try body.finish()
            let address = context.remoteAddress?.ipAddress ?? "unknown"
            return try APIJSON.response(try await s.login(username: username, password: password, clientAddress: address))
        }
        api.post("auth/refresh") { request, context -> Response in
            var body = try await JSONBody.read(request, context: context)
            let token = body.requiredString("refresh_token")
            try body.finish()
            return try APIJSON.response(try s.refresh(token: token))
        }
        api.post("auth/logout") { request, context -> Response in
            var body = try await JSONBody.read(request, context: context)
            let token = body.requiredString("refresh_token")
            try body.finish()
            try s.logout(refreshToken: token)
            return APIJSON.noContent()
        }
    }

    // MARK: API keys

    static func registerAPIKeys(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.post("api-keys") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let name = body.requiredString("name", maxLength: 100)
            let tenant = body.string("tenant_id")
            try body.finish()
            let tenantID = try s.tenantScope(caller, requested: tenant.value)
            // A system administrator's key for its own (system) tenant is a system key; any other is a tenant key.
            let role: AccountRole = caller.isSystemAdmin && tenantID == caller.tenantID ? .systemAdministrator : .tenantAdministrator
            let secret = "tk_" + SecureRandom.bytes(32).hexString
            let record = APIKeyRecord(id: SecureRandom.identifier(), tenantID: tenantID, name: name,
                                      keyHash: AdminAPIService.tokenHash(secret), prefix: String(secret.prefix(10)),
                                      role: role, createdBy: caller.subjectID, createdAt: s.now())
            try storeCall { () throws(StoreError) in try s.store.insertAPIKey(record) }
            return try APIJSON.response(APIKeyDTO(key: record, secret: secret), status: .created)
        }
        g.get("api-keys") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let page = try PageRequest(request)
            let requested = request.uri.queryParameters.get("tenant_id")
            let scope: String? = caller.isSystemAdmin && requested == nil ? nil : try s.tenantScope(caller, requested: requested)
            let keys = try storeCall { () throws(StoreError) in try s.store.apiKeys(tenantID: scope) }
            let p = page.page(keys, key: \.id)
            return try APIJSON.response(Page(items: p.items.map { APIKeyDTO(key: $0) }, nextCursor: p.nextCursor))
        }
        g.delete("api-keys/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let id = try context.parameters.require("id")
            guard let key = try storeCall({ () throws(StoreError) in try s.store.apiKey(id: id) }), caller.sees(tenantID: key.tenantID)
            else { throw Problem.notFound("api key") }
            try storeCall { () throws(StoreError) in try s.store.deleteAPIKey(id: id) }
            return APIJSON.noContent()
        }
    }

    // MARK: Tenants

    static func registerTenants(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("tenants") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let all: [Tenant] = caller.isSystemAdmin
                ? try s.store.tenants()
                : [try s.visibleTenant(caller, id: caller.tenantID)]
            let p = page.page(all, key: \.domain)
            return try APIJSON.response(Page(items: p.items.map(TenantDTO.init), nextCursor: p.nextCursor))
        }
        g.post("tenants") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireSystemAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let name = body.requiredString("name", maxLength: 200)
            let domain = body.requiredString("domain", maxLength: 253)
            let maxExtensions = body.int("max_extensions").value
            let maxCalls = body.int("max_concurrent_calls").value
            let adminUser = body.string("admin_username", maxLength: 100, allowEmpty: false).value
            let adminPassword = body.string("admin_password", maxLength: 1024).value
            if (adminUser == nil) != (adminPassword == nil) {
                body.addError(adminUser == nil ? "admin_username" : "admin_password",
                              "admin_username and admin_password go together")
            }
            if let p = adminPassword, p.count < 8 { body.addError("admin_password", "must be at least 8 characters") }
            if let u = adminUser, u.contains("@") { body.addError("admin_username", "must not contain '@'") }
            try body.finish()
            let tenant = try storeCall(field: "domain") { () throws(StoreError) in
                try s.store.createTenant(name: name, domain: domain, maxExtensions: maxExtensions, maxConcurrentCalls: maxCalls)
            }
            if let adminUser, let adminPassword {
                let iterations = s.configuration.passwordHashIterations
                do {
                    try await NIOThreadPool.singleton.runIfActive {
                        try s.store.createAccount(tenantID: tenant.id, username: adminUser, password: adminPassword,
                                                  role: .tenantAdministrator, iterations: iterations)
                    }
                } catch let error as StoreError {
                    try? s.store.deleteTenant(id: tenant.id)
                    throw error.problem(field: "admin_username")
                }
            }
            return try APIJSON.response(TenantDTO(tenant: tenant), status: .created)
        }
        g.get("tenants/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            return try APIJSON.response(TenantDTO(tenant: try s.visibleTenant(caller, id: try context.parameters.require("id"))))
        }
        g.patch("tenants/:id") { request, context -> Response in
            let caller = try context.requireCaller()
            var tenant = try s.visibleTenant(caller, id: try context.parameters.require("id"))
            try caller.requireSystemAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let name = body.notNull("name", body.string("name", maxLength: 200, allowEmpty: false))
            let domain = body.notNull("domain", body.string("domain", maxLength: 253, allowEmpty: false))
            let maxExtensions = body.int("max_extensions")
            let maxCalls = body.int("max_concurrent_calls")
            try body.finish()
            if let v = name.value { tenant.name = v }
            if let v = domain.value { tenant.domain = v }
            switch maxExtensions { case .value(let v): tenant.maxExtensions = v; case .null: tenant.maxExtensions = nil; case .absent: break }
            switch maxCalls { case .value(let v): tenant.maxConcurrentCalls = v; case .null: tenant.maxConcurrentCalls = nil; case .absent: break }
            let updated = tenant
            try storeCall(field: "domain") { () throws(StoreError) in try s.store.updateTenant(updated) }
            return try APIJSON.response(TenantDTO(tenant: try s.visibleTenant(caller, id: updated.id)))
        }
        g.delete("tenants/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let tenant = try s.visibleTenant(caller, id: try context.parameters.require("id"))
            try caller.requireSystemAdministrator()
            try storeCall { () throws(StoreError) in try s.store.deleteTenant(id: tenant.id) }
            return APIJSON.noContent()
        }
    }

    // MARK: Extensions

    /// The settings fields shared by create and update.
    private static func readSettings(_ body: inout JSONBody, into settings: inout ExtensionSettings) {
        if let v = body.notNull("display_name", body.string("display_name")).value { settings.displayName = v }
        switch body.string("email", maxLength: 254) { case .value(let v): settings.email = v.isEmpty ? nil : v; case .null: settings.email = nil; case .absent: break }
        switch body.string("outbound_caller_id", maxLength: 64) {
        case .value(let v): settings.outboundCallerID = v.isEmpty ? nil : v
        case .null: settings.outboundCallerID = nil
        case .absent: break
        }
        if let v = body.notNull("enabled", body.bool("enabled")).value { settings.isEnabled = v }
        if let v = body.notNull("record_calls", body.bool("record_calls")).value { settings.recordsCalls = v }
        if let v = body.notNull("allow_external_calls", body.bool("allow_external_calls")).value { settings.allowsExternalCalls = v }
        // Forwarding and do-not-disturb: a destination is an extension number or voicemail:NUMBER (the store checks).
        if let v = body.notNull("do_not_disturb", body.bool("do_not_disturb")).value { settings.callFeatures.doNotDisturb = v }
        let forwards: [(String, WritableKeyPath<ExtensionCallFeatures, String?>)] = [
            ("forward_always", \.forwardAlways), ("forward_on_busy", \.forwardOnBusy),
            ("forward_on_no_answer", \.forwardOnNoAnswer), ("forward_on_unavailable", \.forwardOnUnavailable)]
        for (key, path) in forwards {
            switch body.string(key, maxLength: 64) {
            case .value(let v): settings.callFeatures[keyPath: path] = v.isEmpty ? nil : v
            case .null: settings.callFeatures[keyPath: path] = nil
            case .absent: break
            }
        }
        switch body.int("no_answer_seconds", in: ExtensionCallFeatures.noAnswerRange) {
        case .value(let v): settings.callFeatures.noAnswerSeconds = v
        case .null: settings.callFeatures.noAnswerSeconds = nil
        case .absent: break
        }
    }

    static func registerExtensions(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("extensions") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let requested = request.uri.queryParameters.get("tenant_id")
            let all: [Extension]
            if caller.role == .extensionUser {
                _ = try s.tenantScope(caller, requested: requested)
                all = [try s.visibleExtension(caller, id: caller.subjectID)]
            } else if caller.isSystemAdmin && requested == nil {
                all = try s.store.tenants().flatMap { t in try s.store.extensions(tenantID: t.id) }
            } else {
                all = try s.store.extensions(tenantID: try s.tenantScope(caller, requested: requested))
            }
            let p = page.page(all, key: { $0.tenantID + "/" + $0.number })
            return try APIJSON.response(Page(items: p.items.map(ExtensionDTO.init), nextCursor: p.nextCursor))
        }
        g.post("extensions") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let tenant = body.string("tenant_id")
            let number = body.requiredString("number", maxLength: 32)
            if !number.isEmpty && !TandemStore.isValidExtensionNumber(number) {
                body.addError("number", "must be 1–32 letters, digits or . - _ +")
            }
            let sip = body.requiredString("sip_password", maxLength: 256)
            let web = body.string("web_password", maxLength: 1024, allowEmpty: false).value
            var settings = ExtensionSettings()
            readSettings(&body, into: &settings)
            try body.finish()
            let tenantID = try s.tenantScope(caller, requested: tenant.value)
            let iterations = s.configuration.passwordHashIterations
            let finalSettings = settings
            let ext: Extension
            do {
                ext = try await NIOThreadPool.singleton.runIfActive {
                    try s.store.createExtension(tenantID: tenantID, number: number, sipPassword: sip, webPassword: web,
                                                settings: finalSettings, webPasswordIterations: iterations)
                }
            } catch let error as StoreError {
                throw error.problem(field: "number")
            }
            return try APIJSON.response(ExtensionDTO(ext: ext), status: .created)
        }
        g.get("extensions/export") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let tenantID = try s.tenantScope(caller, requested: request.uri.queryParameters.get("tenant_id"))
            let csv = ExtensionCSV.export(try s.store.extensions(tenantID: tenantID))
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"extensions.csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        g.post("extensions/import") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let tenantID = try s.tenantScope(caller, requested: request.uri.queryParameters.get("tenant_id"))
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            guard let text = String(bytes: Data(buffer: buffer), encoding: .utf8) else {
                throw Problem.badRequest("the CSV file must be UTF-8")
            }
            let (rows, errors) = ExtensionCSV.parse(text)
            if !errors.isEmpty { throw Problem.validation(errors, detail: "the file has bad rows; nothing was imported") }
            if rows.isEmpty { throw Problem.invalid("body", "the file has no rows") }
            let iterations = s.configuration.passwordHashIterations
            let drafts = try await NIOThreadPool.singleton.runIfActive {
                try rows.map { row in
                    ExtensionDraft(number: row.number, sipPassword: row.sipPassword,
                                   webPasswordHash: try row.webPassword.map { try PasswordHash.make($0, iterations: iterations) },
                                   settings: row.settings)
                }
            }
            let created: [Extension]
            do {
                created = try s.store.createExtensions(tenantID: tenantID, drafts: drafts)
            } catch let error as StoreError {
                if case .duplicateExtension(let number) = error {
                    let line = rows.first { $0.number == number }?.line ?? 0
                    throw Problem.validation([.init(field: "rows[\(line)].number", message: "extension \(number) already exists")],
                                             detail: "the file has bad rows; nothing was imported")
                }
                throw error.problem(field: "body")
            }
            return try APIJSON.response(ImportResultDTO(created: created.count, items: created.map(ExtensionDTO.init)),
                                        status: .created)
        }
        g.get("extensions/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            return try APIJSON.response(ExtensionDTO(ext: try s.visibleExtension(caller, id: try context.parameters.require("id"))))
        }
        g.patch("extensions/:id") { request, context -> Response in
            let caller = try context.requireCaller()
            let ext = try s.visibleExtension(caller, id: try context.parameters.require("id"))
            try caller.requireAdministrator()
            var body = try await JSONBody.read(request, context: context)
            var settings = ext.settings
            readSettings(&body, into: &settings)
            let sip = body.notNull("sip_password", body.string("sip_password", maxLength: 256, allowEmpty: false)).value
            let web = body.string("web_password", maxLength: 1024, allowEmpty: false)
            try body.finish()
            let iterations = s.configuration.passwordHashIterations
            let finalSettings = settings
            do {
                try await NIOThreadPool.singleton.runIfActive {
                    try s.store.updateExtension(id: ext.id, settings: finalSettings)
                    if let sip { try s.store.setSIPPassword(extensionID: ext.id, password: sip) }
                    switch web {
                    case .value(let p): try s.store.setWebPassword(extensionID: ext.id, password: p, iterations: iterations)
                    case .null: try s.store.setWebPassword(extensionID: ext.id, password: nil)
                    case .absent: break
                    }
                }
            } catch let error as StoreError {
                throw error.problem(field: "body")
            }
            return try APIJSON.response(ExtensionDTO(ext: try s.visibleExtension(caller, id: ext.id)))
        }
        g.delete("extensions/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let ext = try s.visibleExtension(caller, id: try context.parameters.require("id"))
            try caller.requireAdministrator()
            try storeCall { () throws(StoreError) in try s.store.deleteExtension(id: ext.id) }
            return APIJSON.noContent()
        }
        g.get("extensions/:id/registrations") { _, context -> Response in
            let caller = try context.requireCaller()
            let ext = try s.visibleExtension(caller, id: try context.parameters.require("id"))
            let items = await s.registrations.registrations()
                .filter { $0.tenantID == ext.tenantID && $0.number == ext.number }
                .map { RegistrationDTO(r: $0, extensionID: ext.id) }
            return try APIJSON.response(Page(items: items, nextCursor: nil))
        }
        g.get("registrations") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let requested = request.uri.queryParameters.get("tenant_id")
            var all = await s.registrations.registrations()
            var numbers: [String: [String: String]] = [:]  // tenant → number → extension id
            if caller.role == .extensionUser {
                let me = try s.visibleExtension(caller, id: caller.subjectID)
                all = all.filter { $0.tenantID == me.tenantID && $0.number == me.number }
            } else if !(caller.isSystemAdmin && requested == nil) {
                let tenantID = try s.tenantScope(caller, requested: requested)
                all = all.filter { $0.tenantID == tenantID }
            }
            for tenantID in Set(all.map(\.tenantID)) {
                numbers[tenantID] = Dictionary(try s.store.extensions(tenantID: tenantID).map { ($0.number, $0.id) },
                                               uniquingKeysWith: { a, _ in a })
            }
            let p = page.page(all, key: { $0.tenantID + "/" + $0.number + "/" + $0.contact })
            return try APIJSON.response(Page(items: p.items.map { RegistrationDTO(r: $0, extensionID: numbers[$0.tenantID]?[$0.number]) },
                                             nextCursor: p.nextCursor))
        }
    }

    // MARK: Extension groups

    static func registerGroups(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("extension-groups") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let page = try PageRequest(request)
            let requested = request.uri.queryParameters.get("tenant_id")
            let all: [ExtensionGroup] = caller.isSystemAdmin && requested == nil
                ? try s.store.tenants().flatMap { t in try s.store.groups(tenantID: t.id) }
                : try s.store.groups(tenantID: try s.tenantScope(caller, requested: requested))
            let p = page.page(all, key: { $0.tenantID + "/" + $0.name.lowercased() })
            return try APIJSON.response(Page(items: p.items.map(GroupDTO.init), nextCursor: p.nextCursor))
        }
        g.post("extension-groups") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let tenant = body.string("tenant_id")
            let name = body.requiredString("name", maxLength: 100)
            try body.finish()
            let tenantID = try s.tenantScope(caller, requested: tenant.value)
            let group = try storeCall(field: "name") { () throws(StoreError) in try s.store.createGroup(tenantID: tenantID, name: name) }
            return try APIJSON.response(GroupDTO(group: group), status: .created)
        }
        g.get("extension-groups/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            return try APIJSON.response(GroupDTO(group: try s.visibleGroup(caller, id: try context.parameters.require("id"))))
        }
        g.patch("extension-groups/:id") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let group = try s.visibleGroup(caller, id: try context.parameters.require("id"))
            var body = try await JSONBody.read(request, context: context)
            let name = body.notNull("name", body.string("name", maxLength: 100, allowEmpty: false))
            try body.finish()
            if let name = name.value {
                try storeCall(field: "name") { () throws(StoreError) in try s.store.renameGroup(id: group.id, to: name) }
            }
            return try APIJSON.response(GroupDTO(group: try s.visibleGroup(caller, id: group.id)))
        }
        g.delete("extension-groups/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let group = try s.visibleGroup(caller, id: try context.parameters.require("id"))
            try storeCall { () throws(StoreError) in try s.store.deleteGroup(id: group.id) }
            return APIJSON.noContent()
        }
        g.get("extension-groups/:id/members") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let page = try PageRequest(request)
            let group = try s.visibleGroup(caller, id: try context.parameters.require("id"))
            let p = page.page(try s.store.members(ofGroup: group.id), key: \.number)
            return try APIJSON.response(Page(items: p.items.map(ExtensionDTO.init), nextCursor: p.nextCursor))
        }
        g.put("extension-groups/:id/members/:extension_id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let group = try s.visibleGroup(caller, id: try context.parameters.require("id"))
            let ext = try s.visibleExtension(caller, id: try context.parameters.require("extension_id"))
            // Both visible yet in different tenants (a system administrator): no such member can exist.
            guard ext.tenantID == group.tenantID else { throw Problem.notFound("extension") }
            try storeCall { () throws(StoreError) in try s.store.addExtension(ext.id, toGroup: group.id) }
            return APIJSON.noContent()
        }
        g.delete("extension-groups/:id/members/:extension_id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let group = try s.visibleGroup(caller, id: try context.parameters.require("id"))
            let ext = try s.visibleExtension(caller, id: try context.parameters.require("extension_id"))
            guard ext.tenantID == group.tenantID else { throw Problem.notFound("extension") }
            try storeCall { () throws(StoreError) in try s.store.removeExtension(ext.id, fromGroup: group.id) }
            return APIJSON.noContent()
        }
    }

    // MARK: System status

    static func registerStatus(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("system/status") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let scope: String? = caller.isSystemAdmin ? nil : caller.tenantID
            let registrations = await s.registrations.registrations().filter { scope == nil || $0.tenantID == scope }
            let calls = await s.calls.activeCalls().filter { scope == nil || $0.tenantID == scope }
            let now = s.now()
            // Media workers are shared by every tenant: only the system administrator sees their load.
            return try APIJSON.response(SystemStatusDTO(
                version: s.configuration.version, startedAt: s.startedAt, uptimeSeconds: now.timeIntervalSince(s.startedAt),
                registrations: registrations.count, tenants: scope == nil ? try s.store.tenants().count : 1,
                extensions: try s.store.extensionCount(tenantID: scope), activeCalls: calls.count,
                answeredCalls: calls.filter { $0.state == .answered }.count,
                mediaWorkers: scope == nil ? s.mediaLoad() : []))
        }
    }
}
