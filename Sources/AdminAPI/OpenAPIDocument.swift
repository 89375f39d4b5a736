/// The OpenAPI 3.1 document of the API, served at `GET /api/v1/openapi.json`. A test checks that every route
/// the router has is in it and every path in it is routed.
enum OpenAPIDocument {
    static let json = #"""
{}
"""#
}
