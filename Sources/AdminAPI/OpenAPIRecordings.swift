import Foundation

/// The OpenAPI entries of call recordings (start/stop on `/api/v1/calls/{id}/recording`, `/api/v1/recordings`),
/// merged into the served document with `adding(_:to:)` after the calls' entries.
extension OpenAPIDocument {
    static let recordingAdditions = ##"""
{
 "tags": [
  {
   "name": "recordings",
   "description": "Call recordings: start and stop on an active call; list, download and delete."
  }
 ],
 "paths": {
  "/api/v1/calls/{id}/recording": {
   "post": {
    "summary": "Start recording an answered call (both parties, a channel each, 8 kHz 16-bit WAV)",
    "tags": [
     "recordings"
    ],
    "operationId": "startCallRecording",
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
     "201": {
      "description": "Recording; Location names the new recording",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Recording"
        }
       }
      },
      "headers": {
       "Location": {
        "schema": {
         "type": "string"
        },
        "description": "/api/v1/recordings/{id}"
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
      "description": "The call is not answered yet, or is already being recorded",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "500": {
      "description": "The engine or the disk refused to record",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "This server cannot record calls",
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
    "summary": "Stop recording a call; answers once the file is final",
    "tags": [
     "recordings"
    ],
    "operationId": "stopCallRecording",
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
      "description": "The finished recording",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Recording"
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
      "description": "The call is not being recorded",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "500": {
      "description": "The recording could not be finalised",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "503": {
      "description": "This server cannot record calls",
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
  "/api/v1/recordings": {
   "get": {
    "summary": "List recordings, newest first (an administrator: its tenant's; an extension user: those of its calls)",
    "tags": [
     "recordings"
    ],
    "operationId": "listRecordings",
    "parameters": [
     {
      "name": "tenant_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The system administrator: only this tenant's recordings (default: every tenant's)."
     },
     {
      "name": "from",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Started at or after (ISO 8601)."
     },
     {
      "name": "to",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "format": "date-time"
      },
      "description": "Started before (ISO 8601)."
     },
     {
      "name": "call_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "Only this call's recordings."
     },
     {
      "name": "extension",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "Only recordings of calls this extension took part in."
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
      "description": "A page of recordings",
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
            "$ref": "#/components/schemas/Recording"
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
      "description": "Bad query parameters (dates, extension, cursor, limit)",
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
  "/api/v1/recordings/{id}": {
   "get": {
    "summary": "Get a recording",
    "tags": [
     "recordings"
    ],
    "operationId": "getRecording",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The recording id."
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Recording"
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
      "description": "No such recording, or not visible to the caller",
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
    "summary": "Delete a recording: its file and its row",
    "tags": [
     "recordings"
    ],
    "operationId": "deleteRecording",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The recording id."
     }
    ],
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
     "404": {
      "description": "No such recording, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The recording is still running",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "500": {
      "description": "The file could not be deleted",
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
  "/api/v1/recordings/{id}/audio": {
   "get": {
    "summary": "Download a finished recording's audio (WAV, streamed)",
    "tags": [
     "recordings"
    ],
    "operationId": "getRecordingAudio",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "The recording id."
     }
    ],
    "responses": {
     "200": {
      "description": "The WAV file",
      "headers": {
       "Content-Length": {
        "schema": {
         "type": "integer"
        }
       }
      },
      "content": {
       "audio/wav": {
        "schema": {
         "type": "string",
         "contentMediaType": "audio/wav"
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
      "description": "No such recording or file, or not visible to the caller",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "409": {
      "description": "The recording is still running",
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
   "Recording": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "call_id",
     "caller",
     "callee",
     "format",
     "state",
     "started_at",
     "ended_at",
     "duration_ms",
     "size_bytes",
     "audio_url"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "call_id": {
      "type": "string"
     },
     "caller": {
      "type": "string",
      "description": "The calling extension."
     },
     "callee": {
      "type": "string",
      "description": "The extension that answered."
     },
     "format": {
      "type": "string",
      "enum": [
       "wav"
      ]
     },
     "state": {
      "type": "string",
      "enum": [
       "recording",
       "finished"
      ]
     },
     "started_at": {
      "type": "string",
      "format": "date-time"
     },
     "ended_at": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "duration_ms": {
      "type": "integer",
      "minimum": 0,
      "description": "Audio in the file, in milliseconds (0 while recording)."
     },
     "size_bytes": {
      "type": "integer",
      "minimum": 0
     },
     "audio_url": {
      "type": "string",
      "description": "Where the audio is downloaded."
     }
    }
   }
  }
 }
}
"""##
}
