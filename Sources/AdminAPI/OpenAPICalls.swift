import Foundation

/// The OpenAPI entries of active calls (`/api/v1/calls`) and the system status with calls and media load, merged
/// into the served document after `additions` (a schema here replaces the base's of the same name).
extension OpenAPIDocument {
    /// Adds `extra`'s paths, tags and schemas to `document`.
    static func adding(_ extra: String, to document: String) -> String {
        guard var doc = (try? JSONSerialization.jsonObject(with: Data(document.utf8))) as? [String: Any],
              let add = (try? JSONSerialization.jsonObject(with: Data(extra.utf8))) as? [String: Any]
        else { return document }
        var paths = doc["paths"] as? [String: Any] ?? [:]
        for (k, v) in add["paths"] as? [String: Any] ?? [:] { paths[k] = v }
        doc["paths"] = paths
        doc["tags"] = (doc["tags"] as? [Any] ?? []) + (add["tags"] as? [Any] ?? [])
        var components = doc["components"] as? [String: Any] ?? [:]
        var schemas = components["schemas"] as? [String: Any] ?? [:]
        for (k, v) in (add["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:] { schemas[k] = v }
        components["schemas"] = schemas
        doc["components"] = components
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return document }
        return String(decoding: data, as: UTF8.self)
    }

    static let callAdditions = ##"""
{
 "tags": [
  {
   "name": "calls",
   "description": "Active calls: list and hang up."
  }
 ],
 "paths": {
  "/api/v1/calls": {
   "get": {
    "summary": "List active calls (an administrator: its tenant's; an extension user: the calls it takes part in)",
    "tags": [
     "calls"
    ],
    "operationId": "listActiveCalls",
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The system administrator: only this tenant's calls (default: every tenant's)."
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500,
       "default": 100
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "next_cursor of the previous page."
     }
    ],
    "responses": {
     "200": {
      "description": "A page of calls not yet ended, oldest first.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/ActiveCall"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "400": {
      "description": "Malformed request or query",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "401": {
      "description": "Missing, invalid or expired credential",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such object, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/calls/{id}": {
   "get": {
    "summary": "Get an active call",
    "tags": [
     "calls"
    ],
    "operationId": "getActiveCall",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The call id (as in call events and the CDR)."
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ActiveCall"
        }
       }
      }
     },
     "401": {
      "description": "Missing, invalid or expired credential",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such active call, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Hang up an active call: BYE to answered parties, CANCEL to ringing ones, 480 to an unanswered caller; the CDR's end_reason is admin, hung_up_by system",
    "tags": [
     "calls"
    ],
    "operationId": "hangUpActiveCall",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The call id (as in call events and the CDR)."
     }
    ],
    "responses": {
     "204": {
      "description": "Hung up"
     },
     "401": {
      "description": "Missing, invalid or expired credential",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such active call, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "schemas": {
   "ActiveCall": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "caller",
     "callee",
     "state",
     "started_at",
     "answered_at",
     "target"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "caller": {
      "type": "string",
      "description": "The caller's extension number."
     },
     "callee": {
      "type": "string",
      "description": "The dialled number."
     },
     "state": {
      "type": "string",
      "enum": [
       "ringing",
       "answered"
      ]
     },
     "started_at": {
      "type": "string",
      "format": "date-time"
     },
     "answered_at": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "target": {
      "type": "string",
      "description": "The extension being rung or that answered: the dialled one, or where forwarding or a transfer led."
     }
    }
   },
   "SystemStatus": {
    "type": "object",
    "required": [
     "version",
     "started_at",
     "uptime_seconds",
     "registrations",
     "tenants",
     "extensions",
     "active_calls",
     "answered_calls",
     "media_workers"
    ],
    "properties": {
     "version": {
      "type": "string"
     },
     "started_at": {
      "type": "string",
      "format": "date-time"
     },
     "uptime_seconds": {
      "type": "number"
     },
     "registrations": {
      "type": "integer"
     },
     "tenants": {
      "type": "integer"
     },
     "extensions": {
      "type": "integer"
     },
     "active_calls": {
      "type": "integer",
      "description": "Calls not yet ended (a tenant administrator: its tenant's)."
     },
     "answered_calls": {
      "type": "integer",
      "description": "Of the active calls, those answered."
     },
     "media_workers": {
      "type": "array",
      "description": "Each media worker's load; only for the system administrator (empty otherwise).",
      "items": {
       "$ref": "#/components/schemas/MediaWorkerLoad"
      }
     }
    }
   },
   "MediaWorkerLoad": {
    "type": "object",
    "required": [
     "index",
     "sessions",
     "legs",
     "packets_in",
     "packets_out",
     "packets_dropped",
     "busy_fraction",
     "cpu"
    ],
    "properties": {
     "index": {
      "type": "integer"
     },
     "sessions": {
      "type": "integer"
     },
     "legs": {
      "type": "integer"
     },
     "packets_in": {
      "type": "integer",
      "minimum": 0
     },
     "packets_out": {
      "type": "integer",
      "minimum": 0
     },
     "packets_dropped": {
      "type": "integer",
      "minimum": 0
     },
     "busy_fraction": {
      "type": "number",
      "minimum": 0,
      "maximum": 1,
      "description": "Share of wall time spent handling events over the last load window."
     },
     "cpu": {
      "type": [
       "integer",
       "null"
      ],
      "description": "The CPU the worker is pinned to."
     }
    }
   }
  }
 }
}
"""##
}
