import Foundation

/// The OpenAPI entries of hold/unhold (`/api/v1/calls/{id}/hold`, `/unhold`) and media sessions
/// (`/api/v1/media/sessions`), merged into the served document after the calls' (see `adding(_:to:)`).
extension OpenAPIDocument {
    static let holdAndMediaAdditions = ##"""
{
 "tags": [
  {
   "name": "media",
   "description": "Active media sessions and their statistics."
  }
 ],
 "paths": {
  "/api/v1/calls/{id}/hold": {
   "post": {
    "summary": "Put parties of an answered call on hold: each gets a re-INVITE with a=sendonly on the same media address (RFC 6337 §5.3), its media is no longer relayed and it hears hold music; event call.held",
    "tags": [
     "calls"
    ],
    "operationId": "holdCall",
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
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CallHoldRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Every party named answered its re-INVITE",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CallHold"
        }
       }
      }
     },
     "400": {
      "description": "Malformed body",
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
      "description": "No such active call, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The call is not answered, the party is already held (hold) or not held (unhold), another re-INVITE is in progress, or the call ended meanwhile",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Invalid party",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "502": {
      "description": "The party's phone refused the re-INVITE (its status is in detail); that party stays as it was",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "This server does not hold calls",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "504": {
      "description": "The party's phone did not answer the re-INVITE in time",
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
  "/api/v1/calls/{id}/unhold": {
   "post": {
    "summary": "Take parties of a call off hold: re-INVITE with a=sendrecv, the music stops and the legs relay again; event call.resumed",
    "tags": [
     "calls"
    ],
    "operationId": "unholdCall",
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
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CallHoldRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Every party named answered its re-INVITE",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CallHold"
        }
       }
      }
     },
     "400": {
      "description": "Malformed body",
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
      "description": "No such active call, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The call is not answered, the party is already held (hold) or not held (unhold), another re-INVITE is in progress, or the call ended meanwhile",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Invalid party",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "502": {
      "description": "The party's phone refused the re-INVITE (its status is in detail); that party stays as it was",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "This server does not hold calls",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "504": {
      "description": "The party's phone did not answer the re-INVITE in time",
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
  "/api/v1/media/sessions": {
   "get": {
    "summary": "List active media sessions with per-leg statistics (the system administrator: every tenant's; a tenant administrator: its tenant's; extension users: 403)",
    "tags": [
     "media"
    ],
    "operationId": "listMediaSessions",
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The system administrator: only this tenant's sessions (default: every tenant's)."
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
      "description": "A page of sessions, by id",
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
            "$ref": "#/components/schemas/MediaSession"
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
      "description": "Extension users cannot list media sessions",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such tenant, or not visible to the caller",
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
  "/api/v1/media/sessions/{id}": {
   "get": {
    "summary": "Get an active media session with per-leg statistics",
    "tags": [
     "media"
    ],
    "operationId": "getMediaSession",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The session id (the call id)."
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/MediaSession"
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
      "description": "Extension users cannot see media sessions",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "404": {
      "description": "No such active session, or not visible to the caller",
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
   "CallHoldRequest": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "party": {
      "type": "string",
      "enum": [
       "caller",
       "callee",
       "both"
      ],
      "default": "both"
     }
    }
   },
   "CallHold": {
    "type": "object",
    "required": [
     "call_id",
     "held"
    ],
    "properties": {
     "call_id": {
      "type": "string"
     },
     "held": {
      "type": "array",
      "items": {
       "type": "string",
       "enum": [
        "caller",
        "callee"
       ]
      },
      "description": "Parties on hold now."
     }
    }
   },
   "MediaStream": {
    "type": "object",
    "required": [
     "index",
     "local_address",
     "local_rtp_port",
     "local_rtcp_port",
     "remote_address",
     "codec",
     "packets_in",
     "bytes_in",
     "packets_out",
     "bytes_out",
     "packets_dropped",
     "packets_lost",
     "loss_fraction",
     "jitter_ms",
     "rtt_ms",
     "mos"
    ],
    "properties": {
     "index": {
      "type": "integer",
      "description": "0: the caller's leg, 1: the callee's."
     },
     "local_address": {
      "type": "string",
      "description": "The engine's address for this leg (as in SDP)."
     },
     "local_rtp_port": {
      "type": "integer"
     },
     "local_rtcp_port": {
      "type": "integer"
     },
     "remote_address": {
      "type": [
       "string",
       "null"
      ],
      "description": "host:port the engine sends to (latched or signalled)."
     },
     "codec": {
      "type": [
       "string",
       "null"
      ],
      "description": "e.g. PCMA/8000; null while unknown (plain relay)."
     },
     "packets_in": {
      "type": "integer",
      "minimum": 0
     },
     "bytes_in": {
      "type": "integer",
      "minimum": 0
     },
     "packets_out": {
      "type": "integer",
      "minimum": 0
     },
     "bytes_out": {
      "type": "integer",
      "minimum": 0
     },
     "packets_dropped": {
      "type": "integer",
      "minimum": 0
     },
     "packets_lost": {
      "type": "integer",
      "description": "RFC 3550 A.3 cumulative packets lost from the endpoint."
     },
     "loss_fraction": {
      "type": "number",
      "minimum": 0,
      "maximum": 1
     },
     "jitter_ms": {
      "type": "number",
      "description": "RFC 3550 A.8 interarrival jitter."
     },
     "rtt_ms": {
      "type": [
       "number",
       "null"
      ],
      "description": "Round-trip time from RTCP, once measured."
     },
     "mos": {
      "type": "number",
      "description": "E-model MOS estimate."
     }
    }
   },
   "MediaSession": {
    "type": "object",
    "required": [
     "id",
     "call_id",
     "tenant_id",
     "held",
     "streams"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "call_id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "held": {
      "type": "array",
      "items": {
       "type": "string",
       "enum": [
        "caller",
        "callee"
       ]
      },
      "description": "Parties on hold through the API."
     },
     "streams": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/MediaStream"
      }
     }
    }
   }
  }
 }
}
"""##
}
