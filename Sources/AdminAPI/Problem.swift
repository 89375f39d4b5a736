import Foundation
import Hummingbird
import NIOCore

/// An RFC 9457 problem: every 4xx and 5xx of the API is one, as `application/problem+json`.
///
/// Thrown by handlers; `ProblemMiddleware` turns any other error into one, so nothing else reaches the wire.
public struct Problem: Error, HTTPResponseError, Sendable, Equatable {
    /// One field-level message of a validation problem.
    public struct FieldError: Codable, Sendable, Equatable {
        /// The offending field, as a JSON path into the request (`number`, `rows[3].sip_password`), or a query
        /// parameter's name.
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    /// A stable identifier of the kind of problem, relative to `/problems/`.
    public var type: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    /// Extra headers (Retry-After on 429, WWW-Authenticate on 401).
    public var headers: HTTPFields

    public init(status: HTTPResponse.Status, type: String, title: String, detail: String? = nil,
                errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    static func validation(_ errors: [FieldError], detail: String = "the request has invalid fields") -> Problem {
        Problem(status: .unprocessableContent, type: "validation", title: "Validation failed", detail: detail, errors: errors)
    }

    static func invalid(_ field: String, _ message: String) -> Problem { validation([FieldError(field: field, message: message)]) }

    static func badRequest(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(status: .badRequest, type: "bad-request", title: "Bad request", detail: detail, errors: errors)
    }

    /// Not found, or not visible to the caller: the same answer for both, so other tenants' ids never leak.
    static func notFound(_ what: String) -> Problem {
        Problem(status: .notFound, type: "not-found", title: "Not found", detail: "\(what) not found")
    }

    static func conflict(_ detail: String, field: String? = nil) -> Problem {
        Problem(status: .conflict, type: "conflict", title: "Conflict", detail: detail,
                errors: field.map { [FieldError(field: $0, message: detail)] } ?? [])
    }

    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer realm=\"tandem\""
        return Problem(status: .unauthorized, type: "unauthorized", title: "Authentication required", detail: detail,
                       headers: headers)
    }

    /// The caller is who they say but their role may not do this (to resources of their own tenant only: a
    /// foreign object is `notFound`).
    static func forbidden(_ detail: String) -> Problem {
        Problem(status: .forbidden, type: "forbidden", title: "Forbidden", detail: detail)
    }

    static func tooManyRequests(retryAfterSeconds: Int) -> Problem {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return Problem(status: .tooManyRequests, type: "rate-limited", title: "Too many requests",
                       detail: "too many failed logins; retry after \(retryAfterSeconds) s", headers: headers)
    }

    static func tooLarge(_ limit: Int) -> Problem {
        Problem(status: .contentTooLarge, type: "too-large", title: "Request body too large",
                detail: "the request body is over the limit of \(limit) bytes")
    }

    static let internalError = Problem(status: .internalServerError, type: "internal", title: "Internal server error",
                                       detail: "the server failed to handle the request; see its log")

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var errors: [FieldError]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = Body(type: "/problems/" + type, title: title, status: Int(status.code), detail: detail,
                        errors: errors.isEmpty ? nil : errors)
        let data = (try? APIJSON.encoder.encode(body)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error a handler throws into a problem response: `Problem` as it is, Hummingbird's `HTTPError`
/// (413 from the body limit, 404 for no route) with its status, anything else as a logged 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try Problem.tooLarge(context.maxUploadSize).response(from: request, context: context)
        } catch let error as HTTPError {
            let problem: Problem
            switch error.status {
            case .contentTooLarge:
                problem = .tooLarge(context.maxUploadSize)
            case .notFound:
                problem = Problem(status: .notFound, type: "not-found", title: "Not found", detail: "no such resource")
            case .methodNotAllowed:
                problem = Problem(status: .methodNotAllowed, type: "method-not-allowed", title: "Method not allowed")
            default:
                problem = Problem(status: error.status, type: "http-\(error.status.code)", title: error.status.reasonPhrase,
                                  detail: error.body)
            }
            return try problem.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try Problem.internalError.response(from: request, context: context)
        }
    }
}
