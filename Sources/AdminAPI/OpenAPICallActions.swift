import Foundation

/// The OpenAPI entries of call actions (CallActionRoutes.swift): transfer and click-to-call, and the CDR's
/// transfer fields. Merged per operation (the paths share items with OpenAPICalls.swift's).
extension OpenAPIDocument {
    /// Adds `extra`'s operations (merged into existing path items), schemas and `callRecordProperties` (added to
    /// the CallRecord schema) to `document`.
    static func addingOperations(_ extra: String, to document: String) -> String {
        guard var doc = (try? JSONSerialization.jsonObject(with: Data(document.utf8))) as? [String: Any],
              let add = (try? JSONSerialization.jsonObject(with: Data(extra.utf8))) as? [String: Any]
        else { return document }
        var paths = doc["paths"] as? [String: Any] ?? [:]
        for (path, item) in add["paths"] as? [String: Any] ?? [:] {
            var merged = paths[path] as? [String: Any] ?? [:]
            for (method, operation) in item as? [String: Any] ?? [:] { merged[method] = operation }
            paths[path] = merged
        }
        doc["paths"] = paths
        var components = doc["components"] as? [String: Any] ?? [:]
        var schemas = components["schemas"] as? [String: Any] ?? [:]
        for (k, v) in (add["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:] { schemas[k] = v }
        if var record = schemas["CallRecord"] as? [String: Any] {
            var properties = record["properties"] as? [String: Any] ?? [:]
            for (k, v) in add["callRecordProperties"] as? [String: Any] ?? [:] { properties[k] = v }
            record["properties"] = properties
            schemas["CallRecord"] = record
        }
        components["schemas"] = schemas
        doc["components"] = components
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return document }
        return String(decoding: data, as: UTF8.self)
    }

    static let callActionAdditions = ##"""
{
 "paths": {
  "/api/v1/calls/{id}/transfer": {
   "post": {
    "summary": "Transfer an answered call: blind (target) or attended (replaces_call_id)",
    "description": "Blind: the other party of `party` is kept and connected to extension `target` (called with the kept party's identity); `party` gets BYE when the target answers. If the target is busy, does not answer or is unreachable, the call goes on unchanged and a `transfer_failed` call event is published. Attended: call `id` and call `replaces_call_id` share a party (`party` of call `id`, or either when omitted); the two other parties are joined in call `id` and the shared party gets BYE on both calls. The CDR of the transferred call lists `transferred_to` and the final parties.",
    "tags": [
     "calls"
    ],
    "operationId": "transferCall",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The call id."
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CallTransferRequest"
       }
      }
     }
    },
    "responses": {
     "202": {
      "description": "The transfer started (blind) or completed (attended); the call as it is now.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ActiveCall"
        }
       }
      }
     },
     "400": {
      "description": "Malformed request",
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
      "description": "No such active call (or replaces_call_id), or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The call is not answered, another transfer is running, or the two calls share no answered party",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Invalid fields; target is not an extension of the call's tenant",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "No SIP service on this server",
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
  "/api/v1/calls": {
   "post": {
    "summary": "Click-to-call: ring the caller's phones, then call the callee from it",
    "description": "Tandem rings every registered contact of extension `caller` (From shows the callee). When the caller answers, the callee is called as if the caller had dialled it (forwarding, limits and CDR rules apply) and the two are joined. The caller not answering ends the call with CDR end_reason no_answer. A tenant administrator or API key may use any extension of its tenant as caller; an extension user only itself.",
    "tags": [
     "calls"
    ],
    "operationId": "clickToCall",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/ClickToCallRequest"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "The call, ringing the caller; its id is the call id of events and the CDR.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ActiveCall"
        }
       }
      }
     },
     "400": {
      "description": "Malformed request",
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
      "description": "An extension user naming another caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such tenant",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The caller has no registered phone, or the tenant's simultaneous-call limit is reached",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Invalid fields; caller is not an extension of the tenant",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "No SIP service on this server",
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
   "CallTransferRequest": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "party": {
      "type": "string",
      "enum": [
       "caller",
       "callee"
      ],
      "description": "Blind: the party moved out (required). Attended: the party call id shares with replaces_call_id (optional)."
     },
     "target": {
      "type": "string",
      "pattern": "^[A-Za-z0-9._+-]{1,32}$",
      "description": "Blind transfer: the extension number to connect the kept party to."
     },
     "replaces_call_id": {
      "type": "string",
      "description": "Attended transfer: the other active call sharing a party with this one."
     }
    }
   },
   "ClickToCallRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "caller",
     "callee"
    ],
    "properties": {
     "caller": {
      "type": "string",
      "description": "The extension whose phones ring first."
     },
     "callee": {
      "type": "string",
      "description": "The number called once the caller answers."
     },
     "tenant_id": {
      "type": "string",
      "description": "The system administrator: the tenant (default: its own)."
     }
    }
   }
  }
 },
 "callRecordProperties": {
  "transferred_to": {
   "type": [
    "string",
    "null"
   ],
   "description": "The extension a transfer connected into the call last; absent when never transferred."
  },
  "final_caller": {
   "type": [
    "string",
    "null"
   ],
   "description": "The extension in the caller slot when the call ended (after transfers); absent when not answered."
  },
  "final_callee": {
   "type": [
    "string",
    "null"
   ],
   "description": "The extension in the callee slot when the call ended (after transfers); absent when not answered."
  }
 }
}
"""##
}
