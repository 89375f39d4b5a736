import Foundation

/// The OpenAPI entries of call records and webhooks, merged into `OpenAPIDocument.base` (kept apart so the two
/// can change independently): their paths, tags and schemas are added, and the event schema learns the `cdr`
/// topic.
extension OpenAPIDocument {
    /// The served document: `base` with `additions` merged in.
    static let json: String = addingOperations(callActionAdditions, to: adding(holdAndMediaAdditions, to: adding(recordingAdditions, to: adding(callAdditions, to: merged(base, additions)))))

    static func merged(_ base: String, _ extra: String) -> String {
        guard var doc = (try? JSONSerialization.jsonObject(with: Data(base.utf8))) as? [String: Any],
              let add = (try? JSONSerialization.jsonObject(with: Data(extra.utf8))) as? [String: Any]
        else { return base }
        var paths = doc["paths"] as? [String: Any] ?? [:]
        for (k, v) in add["paths"] as? [String: Any] ?? [:] { paths[k] = v }
        doc["paths"] = paths
        doc["tags"] = (doc["tags"] as? [Any] ?? []) + (add["tags"] as? [Any] ?? [])
        var components = doc["components"] as? [String: Any] ?? [:]
        var schemas = components["schemas"] as? [String: Any] ?? [:]
        for (k, v) in (add["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:] { schemas[k] = v }
        if var event = schemas["Event"] as? [String: Any], var props = event["properties"] as? [String: Any] {
            if var topic = props["topic"] as? [String: Any] {
                topic["enum"] = (topic["enum"] as? [String] ?? []) + ["cdr", "calls", "media"]
                props["topic"] = topic
            }
            if var type = props["type"] as? [String: Any] {
                type["enum"] = (type["enum"] as? [String] ?? []) + ["written", "started", "ringing", "answered", "transferred", "ended"]
                props["type"] = type
            }
            event["properties"] = props
            schemas["Event"] = event
        }
        components["schemas"] = schemas
        doc["components"] = components
        if var info = doc["info"] as? [String: Any], let d = info["description"] as? String {
            info["description"] = d.replacingOccurrences(of: "calls, CDRs, recordings, media sessions, webhooks.",
                                                         with: "calls, recordings, media sessions.")
                .replacingOccurrences(of: "API keys and live events.", with: "API keys, call records (CDRs), webhooks and live events.")
            doc["info"] = info
        }
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return base }
        return String(decoding: data, as: UTF8.self)
    }

    static let additions = ##"""
{
 "tags": [
  {
   "name": "cdrs"
  },
  {
   "name": "webhooks"
  }
 ],
 "paths": {
  "/api/v1/cdrs": {
   "get": {
    "summary": "List call records (an extension user: its own calls)",
    "tags": [
     "cdrs"
    ],
    "operationId": "listCallRecords",
    "responses": {
     "200": {
      "description": "A page of call records, newest written first; with Accept: text/csv, every matching record as CSV (as /api/v1/cdrs.csv).",
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
            "$ref": "#/components/schemas/CallRecord"
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
       },
       "text/csv": {
        "schema": {
         "type": "string"
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
    },
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "System administrator only: act in this tenant (others: their own tenant; naming another is 404)."
     },
     {
      "name": "from",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Calls started at or after this ISO 8601 date-time."
     },
     {
      "name": "to",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Calls started before this ISO 8601 date-time."
     },
     {
      "name": "extension",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9._+-]{1,32}$"
      },
      "description": "Calls made by or to this extension number (an extension user: always itself)."
     },
     {
      "name": "direction",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "inbound",
        "outbound",
        "internal"
       ]
      },
      "description": "Relative to the extension: inbound (to it), outbound (from it), internal (both; the default)."
     },
     {
      "name": "result",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "answered",
        "unanswered"
       ]
      },
      "description": "Answered or unanswered calls only."
     },
     {
      "name": "end_reason",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "Comma-separated end reasons: normal, busy, no_answer, unavailable, cancelled, not_found, incompatible_media, rejected, failed."
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500
      },
      "description": "Page size, 1 to 500 (default 100)."
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The next_cursor of the previous page."
     }
    ]
   }
  },
  "/api/v1/cdrs.csv": {
   "get": {
    "summary": "Export call records as CSV",
    "tags": [
     "cdrs"
    ],
    "operationId": "exportCallRecords",
    "responses": {
     "200": {
      "description": "CSV (RFC 4180) of every matching record, newest first, at most 100000; header id,tenant_id,caller,callee,started_at,answered_at,ended_at,duration_seconds,end_reason,sip_status,hung_up_by,caller_codec,callee_codec,transcoded,targets. Cells that look like formulas are prefixed with '.",
      "content": {
       "text/csv": {
        "schema": {
         "type": "string"
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
    },
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "System administrator only: act in this tenant (others: their own tenant; naming another is 404)."
     },
     {
      "name": "from",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Calls started at or after this ISO 8601 date-time."
     },
     {
      "name": "to",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Calls started before this ISO 8601 date-time."
     },
     {
      "name": "extension",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9._+-]{1,32}$"
      },
      "description": "Calls made by or to this extension number (an extension user: always itself)."
     },
     {
      "name": "direction",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "inbound",
        "outbound",
        "internal"
       ]
      },
      "description": "Relative to the extension: inbound (to it), outbound (from it), internal (both; the default)."
     },
     {
      "name": "result",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "answered",
        "unanswered"
       ]
      },
      "description": "Answered or unanswered calls only."
     },
     {
      "name": "end_reason",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "Comma-separated end reasons: normal, busy, no_answer, unavailable, cancelled, not_found, incompatible_media, rejected, failed."
     }
    ]
   }
  },
  "/api/v1/cdrs/{id}": {
   "get": {
    "summary": "Get a call record",
    "tags": [
     "cdrs"
    ],
    "operationId": "getCallRecord",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CallRecord"
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
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/webhooks": {
   "get": {
    "summary": "List webhooks",
    "tags": [
     "webhooks"
    ],
    "operationId": "listWebhooks",
    "responses": {
     "200": {
      "description": "OK",
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
            "$ref": "#/components/schemas/Webhook"
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
     "403": {
      "description": "The caller's role may not do this",
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
    },
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "System administrator only: act in this tenant (others: their own tenant; naming another is 404)."
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500
      },
      "description": "Page size, 1 to 500 (default 100)."
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The next_cursor of the previous page."
     }
    ]
   },
   "post": {
    "summary": "Create a webhook; the answer holds its signing secret, shown only this once",
    "tags": [
     "webhooks"
    ],
    "operationId": "createWebhook",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/WebhookCreate"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Webhook"
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
     "403": {
      "description": "The caller's role may not do this",
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
     },
     "413": {
      "description": "Request body too large",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed",
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
  "/api/v1/webhooks/{id}": {
   "get": {
    "summary": "Get a webhook",
    "tags": [
     "webhooks"
    ],
    "operationId": "getWebhook",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Webhook"
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
     "403": {
      "description": "The caller's role may not do this",
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
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "patch": {
    "summary": "Change a webhook",
    "tags": [
     "webhooks"
    ],
    "operationId": "updateWebhook",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/WebhookUpdate"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Webhook"
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
     "403": {
      "description": "The caller's role may not do this",
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
     },
     "413": {
      "description": "Request body too large",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "delete": {
    "summary": "Delete a webhook and its undelivered events",
    "tags": [
     "webhooks"
    ],
    "operationId": "deleteWebhook",
    "responses": {
     "204": {
      "description": "Deleted"
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
     "403": {
      "description": "The caller's role may not do this",
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
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/webhooks/{id}/deliveries": {
   "get": {
    "summary": "Undelivered events of a webhook (pending and given up)",
    "tags": [
     "webhooks"
    ],
    "operationId": "listWebhookDeliveries",
    "responses": {
     "200": {
      "description": "OK",
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
            "$ref": "#/components/schemas/WebhookDelivery"
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
     "403": {
      "description": "The caller's role may not do this",
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
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500
      },
      "description": "Page size, 1 to 500 (default 100)."
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The next_cursor of the previous page."
     }
    ]
   }
  }
 },
 "components": {
  "schemas": {
   "CallRecord": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "caller",
     "callee",
     "targets",
     "started_at",
     "answered_at",
     "ended_at",
     "duration_seconds",
     "end_reason",
     "sip_status",
     "hung_up_by",
     "caller_codec",
     "callee_codec",
     "transcoded"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "caller": {
      "type": "string"
     },
     "callee": {
      "type": "string"
     },
     "targets": {
      "type": "array",
      "items": {
       "type": "string"
      }
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
     "ended_at": {
      "type": "string",
      "format": "date-time"
     },
     "duration_seconds": {
      "type": "number",
      "minimum": 0
     },
     "end_reason": {
      "type": "string",
      "enum": [
       "normal",
       "busy",
       "no_answer",
       "unavailable",
       "cancelled",
       "not_found",
       "incompatible_media",
       "rejected",
       "failed",
       "transferred",
       "media_timeout",
       "session_expired",
       "call_limit",
       "forward_loop",
       "admin"
      ]
     },
     "sip_status": {
      "type": [
       "integer",
       "null"
      ]
     },
     "hung_up_by": {
      "type": "string",
      "enum": [
       "caller",
       "callee",
       "system"
      ]
     },
     "caller_codec": {
      "type": [
       "string",
       "null"
      ]
     },
     "callee_codec": {
      "type": [
       "string",
       "null"
      ]
     },
     "transcoded": {
      "type": "boolean"
     }
    }
   },
   "Webhook": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "url",
     "events",
     "enabled",
     "description",
     "created_at"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "url": {
      "type": "string"
     },
     "events": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "enabled": {
      "type": "boolean"
     },
     "description": {
      "type": "string"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "secret": {
      "type": "string",
      "description": "Only in the answer to the creation. Each POST carries X-Tandem-Signature: sha256=<hex HMAC-SHA256 of '<X-Tandem-Timestamp>.<body>' under this secret>, X-Tandem-Timestamp (Unix seconds), X-Tandem-Event-Id (the same on every retry: deduplicate on it) and X-Tandem-Event. The body is {id, type, tenant_id, occurred_at, data}. A 2xx answer acknowledges; anything else is retried with exponential backoff. Events of one call arrive in order."
     }
    }
   },
   "WebhookCreate": {
    "type": "object",
    "required": [
     "url",
     "events"
    ],
    "additionalProperties": false,
    "properties": {
     "tenant_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "url": {
      "type": "string",
      "format": "uri",
      "maxLength": 2048,
      "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"
     },
     "events": {
      "type": "array",
      "minItems": 1,
      "maxItems": 50,
      "items": {
       "type": "string",
       "description": "cdr, call.started, call.ringing, call.answered, call.held, call.resumed, call.transferred, call.transfer_failed, call.ended, call.recording.started, call.recording.finished, media.stream_timeout, media.quality_alarm, media.quality_recovered, extension.registered, extension.refreshed, extension.unregistered, extension.expired, extension.flow_closed; or prefix.* (call.*, extension.*) or *."
      }
     },
     "enabled": {
      "type": "boolean"
     },
     "description": {
      "type": "string",
      "maxLength": 200
     }
    }
   },
   "WebhookUpdate": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "url": {
      "type": "string",
      "format": "uri",
      "maxLength": 2048,
      "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"
     },
     "events": {
      "type": "array",
      "minItems": 1,
      "maxItems": 50,
      "items": {
       "type": "string",
       "description": "cdr, call.started, call.ringing, call.answered, call.held, call.resumed, call.transferred, call.transfer_failed, call.ended, call.recording.started, call.recording.finished, media.stream_timeout, media.quality_alarm, media.quality_recovered, extension.registered, extension.refreshed, extension.unregistered, extension.expired, extension.flow_closed; or prefix.* (call.*, extension.*) or *."
      }
     },
     "enabled": {
      "type": "boolean"
     },
     "description": {
      "type": "string",
      "maxLength": 200
     }
    }
   },
   "WebhookDelivery": {
    "type": "object",
    "required": [
     "event_id",
     "type",
     "state",
     "attempts",
     "created_at",
     "next_attempt_at",
     "last_status",
     "last_error"
    ],
    "properties": {
     "event_id": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "state": {
      "type": "string",
      "enum": [
       "pending",
       "dead"
      ]
     },
     "attempts": {
      "type": "integer"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "next_attempt_at": {
      "type": "string",
      "format": "date-time"
     },
     "last_status": {
      "type": [
       "integer",
       "null"
      ]
     },
     "last_error": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   }
  }
 }
}
"""##
}
