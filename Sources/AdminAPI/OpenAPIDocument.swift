/// The OpenAPI 3.1 document of the API, served at `GET /api/v1/openapi.json`. A test checks that every route
/// the router has is in it and every path in it is routed; keep the two in step when adding a route.
enum OpenAPIDocument {
    static let base = ##"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "Tandem administration API",
  "version": "1",
  "description": "Tenants, extensions, extension groups, registrations, system status, API keys and live events. JSON keys are snake_case, timestamps ISO 8601 UTC, ids opaque strings. Every error is an RFC 9457 problem (application/problem+json). Objects of another tenant answer 404, exactly as ids that do not exist. Request bodies are limited to 1 MiB. Not yet here: calls, CDRs, recordings, media sessions, webhooks."
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "security": [
  {
   "bearer": []
  },
  {
   "apiKey": []
  }
 ],
 "tags": [
  {
   "name": "auth"
  },
  {
   "name": "tenants"
  },
  {
   "name": "extensions"
  },
  {
   "name": "extension-groups"
  },
  {
   "name": "registrations"
  },
  {
   "name": "system"
  },
  {
   "name": "events"
  }
 ],
 "paths": {
  "/health": {
   "get": {
    "summary": "Liveness and version",
    "tags": [
     "system"
    ],
    "operationId": "getHealth",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus metrics (text format 0.0.4)",
    "tags": [
     "system"
    ],
    "operationId": "getMetrics",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/v1/openapi.json": {
   "get": {
    "summary": "This document",
    "tags": [
     "system"
    ],
    "operationId": "getOpenAPI",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/v1/auth/login": {
   "post": {
    "summary": "Log in: `admin` (system), `name@domain` (tenant administrator, or extension with its web password)",
    "tags": [
     "auth"
    ],
    "operationId": "login",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TokenPair"
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
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "429": {
      "description": "Too many failed logins; see Retry-After",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "username",
         "password"
        ],
        "properties": {
         "username": {
          "type": "string",
          "minLength": 1,
          "maxLength": 256
         },
         "password": {
          "type": "string",
          "minLength": 1,
          "maxLength": 1024
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/auth/refresh": {
   "post": {
    "summary": "Exchange a refresh token (single use) for a new pair",
    "tags": [
     "auth"
    ],
    "operationId": "refresh",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TokenPair"
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
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "refresh_token"
        ],
        "properties": {
         "refresh_token": {
          "type": "string",
          "minLength": 1,
          "maxLength": 256
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/auth/logout": {
   "post": {
    "summary": "Revoke a refresh token",
    "tags": [
     "auth"
    ],
    "operationId": "logout",
    "responses": {
     "204": {
      "description": "Done"
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
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "refresh_token"
        ],
        "properties": {
         "refresh_token": {
          "type": "string",
          "minLength": 1,
          "maxLength": 256
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/auth/me": {
   "get": {
    "summary": "Who the credential belongs to",
    "tags": [
     "auth"
    ],
    "operationId": "me",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Caller"
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
     }
    }
   }
  },
  "/api/v1/api-keys": {
   "get": {
    "summary": "List API keys (values never shown)",
    "tags": [
     "auth"
    ],
    "operationId": "listAPIKeys",
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
            "$ref": "#/components/schemas/APIKey"
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   },
   "post": {
    "summary": "Create an API key; its value is in this answer only",
    "tags": [
     "auth"
    ],
    "operationId": "createAPIKey",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/APIKey"
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
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "name"
        ],
        "properties": {
         "name": {
          "type": "string",
          "minLength": 1,
          "maxLength": 100
         },
         "tenant_id": {
          "type": "string"
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/api-keys/{id}": {
   "delete": {
    "summary": "Delete an API key",
    "tags": [
     "auth"
    ],
    "operationId": "deleteAPIKey",
    "responses": {
     "204": {
      "description": "Done"
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
  "/api/v1/tenants": {
   "get": {
    "summary": "List tenants (a tenant's own users: just theirs)",
    "tags": [
     "tenants"
    ],
    "operationId": "listTenants",
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
            "$ref": "#/components/schemas/Tenant"
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
     }
    },
    "parameters": [
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   },
   "post": {
    "summary": "Create a tenant, optionally with its administrator (system administrator only)",
    "tags": [
     "tenants"
    ],
    "operationId": "createTenant",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Tenant"
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
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "name",
         "domain"
        ],
        "properties": {
         "name": {
          "type": "string",
          "minLength": 1,
          "maxLength": 200
         },
         "domain": {
          "type": "string",
          "minLength": 1,
          "maxLength": 253
         },
         "max_extensions": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 0
         },
         "max_concurrent_calls": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 0
         },
         "admin_username": {
          "type": "string",
          "minLength": 1,
          "maxLength": 100
         },
         "admin_password": {
          "type": "string",
          "minLength": 8,
          "maxLength": 1024
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/tenants/{id}": {
   "get": {
    "summary": "Get a tenant",
    "tags": [
     "tenants"
    ],
    "operationId": "getTenant",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Tenant"
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
   },
   "patch": {
    "summary": "Update a tenant (system administrator only)",
    "tags": [
     "tenants"
    ],
    "operationId": "updateTenant",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Tenant"
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
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
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
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [],
        "properties": {
         "name": {
          "type": "string",
          "minLength": 1,
          "maxLength": 200
         },
         "domain": {
          "type": "string",
          "minLength": 1,
          "maxLength": 253
         },
         "max_extensions": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 0
         },
         "max_concurrent_calls": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 0
         }
        }
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Delete a tenant with everything in it (system administrator only)",
    "tags": [
     "tenants"
    ],
    "operationId": "deleteTenant",
    "responses": {
     "204": {
      "description": "Done"
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
     "409": {
      "description": "Conflicts with existing data",
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
  "/api/v1/extensions": {
   "get": {
    "summary": "List extensions (an extension user: itself)",
    "tags": [
     "extensions"
    ],
    "operationId": "listExtensions",
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
            "$ref": "#/components/schemas/Extension"
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   },
   "post": {
    "summary": "Create an extension; passwords are write-only",
    "tags": [
     "extensions"
    ],
    "operationId": "createExtension",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Extension"
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
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "number",
         "sip_password"
        ],
        "properties": {
         "tenant_id": {
          "type": "string"
         },
         "number": {
          "type": "string",
          "pattern": "^[A-Za-z0-9._+-]{1,32}$"
         },
         "sip_password": {
          "type": "string",
          "minLength": 1,
          "maxLength": 256
         },
         "web_password": {
          "type": "string",
          "minLength": 1,
          "maxLength": 1024
         },
         "display_name": {
          "type": "string",
          "maxLength": 256
         },
         "email": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 254
         },
         "outbound_caller_id": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64
         },
         "enabled": {
          "type": "boolean"
         },
         "record_calls": {
          "type": "boolean"
         },
         "allow_external_calls": {
          "type": "boolean"
         },
         "do_not_disturb": {
          "type": "boolean",
          "description": "Refuse calls busy (486), or send them to forward_on_busy when set."
         },
         "forward_always": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_busy": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_no_answer": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_unavailable": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "no_answer_seconds": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 1,
          "maximum": 600,
          "description": "Ring time before forward_on_no_answer (or the server ring timeout) applies; null: the server ring timeout."
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/extensions/export": {
   "get": {
    "summary": "Export extensions as CSV (password columns empty)",
    "tags": [
     "extensions"
    ],
    "operationId": "exportExtensions",
    "responses": {
     "200": {
      "description": "CSV with header number,display_name,email,outbound_caller_id,enabled,record_calls,allow_external_calls,sip_password,web_password",
      "content": {
       "text/csv": {
        "schema": {
         "type": "string"
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
     }
    ]
   }
  },
  "/api/v1/extensions/import": {
   "post": {
    "summary": "Import extensions from CSV: all rows or none; bad rows are reported as rows[LINE].column",
    "tags": [
     "extensions"
    ],
    "operationId": "importExtensions",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "created",
          "items"
         ],
         "properties": {
          "created": {
           "type": "integer"
          },
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Extension"
           }
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
     },
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
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
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "text/csv": {
       "schema": {
        "type": "string",
        "description": "Header row, then one extension per row; columns number and sip_password required."
       }
      }
     }
    }
   }
  },
  "/api/v1/extensions/{id}": {
   "get": {
    "summary": "Get an extension",
    "tags": [
     "extensions"
    ],
    "operationId": "getExtension",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Extension"
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
   },
   "patch": {
    "summary": "Update an extension; sip_password / web_password set passwords (web_password null removes web login)",
    "tags": [
     "extensions"
    ],
    "operationId": "updateExtension",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Extension"
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
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
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
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [],
        "properties": {
         "sip_password": {
          "type": "string",
          "minLength": 1,
          "maxLength": 256
         },
         "web_password": {
          "type": [
           "string",
           "null"
          ],
          "minLength": 1,
          "maxLength": 1024
         },
         "display_name": {
          "type": "string",
          "maxLength": 256
         },
         "email": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 254
         },
         "outbound_caller_id": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64
         },
         "enabled": {
          "type": "boolean"
         },
         "record_calls": {
          "type": "boolean"
         },
         "allow_external_calls": {
          "type": "boolean"
         },
         "do_not_disturb": {
          "type": "boolean",
          "description": "Refuse calls busy (486), or send them to forward_on_busy when set."
         },
         "forward_always": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_busy": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_no_answer": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "forward_on_unavailable": {
          "type": [
           "string",
           "null"
          ],
          "maxLength": 64,
          "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
         },
         "no_answer_seconds": {
          "type": [
           "integer",
           "null"
          ],
          "minimum": 1,
          "maximum": 600,
          "description": "Ring time before forward_on_no_answer (or the server ring timeout) applies; null: the server ring timeout."
         }
        }
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Delete an extension",
    "tags": [
     "extensions"
    ],
    "operationId": "deleteExtension",
    "responses": {
     "204": {
      "description": "Done"
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
  "/api/v1/extensions/{id}/registrations": {
   "get": {
    "summary": "Current contact bindings of an extension",
    "tags": [
     "registrations"
    ],
    "operationId": "listExtensionRegistrations",
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
            "$ref": "#/components/schemas/Registration"
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
  "/api/v1/registrations": {
   "get": {
    "summary": "Current contact bindings",
    "tags": [
     "registrations"
    ],
    "operationId": "listRegistrations",
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
            "$ref": "#/components/schemas/Registration"
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   }
  },
  "/api/v1/extension-groups": {
   "get": {
    "summary": "List extension groups",
    "tags": [
     "extension-groups"
    ],
    "operationId": "listGroups",
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
            "$ref": "#/components/schemas/ExtensionGroup"
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   },
   "post": {
    "summary": "Create an extension group",
    "tags": [
     "extension-groups"
    ],
    "operationId": "createGroup",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ExtensionGroup"
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
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [
         "name"
        ],
        "properties": {
         "tenant_id": {
          "type": "string"
         },
         "name": {
          "type": "string",
          "minLength": 1,
          "maxLength": 100
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/extension-groups/{id}": {
   "get": {
    "summary": "Get an extension group",
    "tags": [
     "extension-groups"
    ],
    "operationId": "getGroup",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ExtensionGroup"
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
    "summary": "Rename an extension group",
    "tags": [
     "extension-groups"
    ],
    "operationId": "updateGroup",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ExtensionGroup"
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
     "409": {
      "description": "Conflicts with existing data",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 1 MiB",
      "content": {
       "application/problem+json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     },
     "422": {
      "description": "Validation failed; `errors` names each field",
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
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "required": [],
        "properties": {
         "name": {
          "type": "string",
          "minLength": 1,
          "maxLength": 100
         }
        }
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Delete an extension group (members stay)",
    "tags": [
     "extension-groups"
    ],
    "operationId": "deleteGroup",
    "responses": {
     "204": {
      "description": "Done"
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
  "/api/v1/extension-groups/{id}/members": {
   "get": {
    "summary": "Members of a group",
    "tags": [
     "extension-groups"
    ],
    "operationId": "listGroupMembers",
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
            "$ref": "#/components/schemas/Extension"
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
      "description": "`next_cursor` of the previous page."
     }
    ]
   }
  },
  "/api/v1/extension-groups/{id}/members/{extension_id}": {
   "put": {
    "summary": "Add an extension of the same tenant to a group (idempotent)",
    "tags": [
     "extension-groups"
    ],
    "operationId": "addGroupMember",
    "responses": {
     "204": {
      "description": "Done"
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
      "name": "extension_id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "delete": {
    "summary": "Remove an extension from a group (idempotent)",
    "tags": [
     "extension-groups"
    ],
    "operationId": "removeGroupMember",
    "responses": {
     "204": {
      "description": "Done"
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
      "name": "extension_id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/system/status": {
   "get": {
    "summary": "Version, uptime and counts (a tenant administrator: its tenant's)",
    "tags": [
     "system"
    ],
    "operationId": "getSystemStatus",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SystemStatus"
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
     }
    }
   }
  },
  "/api/v1/events": {
   "get": {
    "summary": "Event WebSocket (send an upgrade request)",
    "tags": [
     "events"
    ],
    "operationId": "events",
    "responses": {
     "101": {
      "description": "Switching to WebSocket. Server sends {\"type\":\"subscribed\",\"topics\":[\u2026]} and then Event objects; client sends {\"action\":\"subscribe\"|\"unsubscribe\",\"topics\":[\"extensions\"]}."
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
     "426": {
      "description": "Not a WebSocket upgrade request",
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
      "name": "topics",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "Comma-separated topics to start with (extensions)."
     },
     {
      "name": "access_token",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "For clients that cannot set headers (browsers)."
     }
    ]
   }
  }
 },
 "components": {
  "schemas": {
   "Problem": {
    "type": "object",
    "required": [
     "type",
     "title",
     "status"
    ],
    "properties": {
     "type": {
      "type": "string"
     },
     "title": {
      "type": "string"
     },
     "status": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     },
     "errors": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "field",
        "message"
       ],
       "properties": {
        "field": {
         "type": "string"
        },
        "message": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "Role": {
    "type": "string",
    "enum": [
     "system_admin",
     "tenant_admin",
     "extension_user"
    ]
   },
   "TokenPair": {
    "type": "object",
    "required": [
     "access_token",
     "token_type",
     "expires_in",
     "refresh_token",
     "refresh_expires_in",
     "role",
     "tenant_id"
    ],
    "properties": {
     "access_token": {
      "type": "string"
     },
     "token_type": {
      "const": "Bearer"
     },
     "expires_in": {
      "type": "integer"
     },
     "refresh_token": {
      "type": "string"
     },
     "refresh_expires_in": {
      "type": "integer"
     },
     "role": {
      "$ref": "#/components/schemas/Role"
     },
     "tenant_id": {
      "type": "string"
     }
    }
   },
   "Caller": {
    "type": "object",
    "required": [
     "role",
     "tenant_id",
     "subject_id",
     "kind",
     "name",
     "credential"
    ],
    "properties": {
     "role": {
      "$ref": "#/components/schemas/Role"
     },
     "tenant_id": {
      "type": "string"
     },
     "subject_id": {
      "type": "string"
     },
     "kind": {
      "type": "string",
      "enum": [
       "account",
       "extension",
       "api_key"
      ]
     },
     "name": {
      "type": "string"
     },
     "credential": {
      "type": "string",
      "enum": [
       "access_token",
       "api_key"
      ]
     }
    }
   },
   "APIKey": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "name",
     "prefix",
     "role",
     "created_at"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "prefix": {
      "type": "string"
     },
     "role": {
      "$ref": "#/components/schemas/Role"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "key": {
      "type": "string",
      "description": "The key itself; only in the answer to its creation."
     }
    }
   },
   "Tenant": {
    "type": "object",
    "required": [
     "id",
     "name",
     "domain",
     "is_system",
     "max_extensions",
     "max_concurrent_calls",
     "created_at"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "domain": {
      "type": "string"
     },
     "is_system": {
      "type": "boolean"
     },
     "max_extensions": {
      "type": [
       "integer",
       "null"
      ]
     },
     "max_concurrent_calls": {
      "type": [
       "integer",
       "null"
      ]
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "Extension": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "number",
     "display_name",
     "email",
     "outbound_caller_id",
     "enabled",
     "record_calls",
     "allow_external_calls",
     "has_web_password",
     "created_at",
     "do_not_disturb",
     "forward_always",
     "forward_on_busy",
     "forward_on_no_answer",
     "forward_on_unavailable",
     "no_answer_seconds"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "number": {
      "type": "string"
     },
     "display_name": {
      "type": "string",
      "maxLength": 256
     },
     "email": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 254
     },
     "outbound_caller_id": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64
     },
     "enabled": {
      "type": "boolean"
     },
     "record_calls": {
      "type": "boolean"
     },
     "allow_external_calls": {
      "type": "boolean"
     },
     "do_not_disturb": {
      "type": "boolean",
      "description": "Refuse calls busy (486), or send them to forward_on_busy when set."
     },
     "forward_always": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64,
      "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
     },
     "forward_on_busy": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64,
      "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
     },
     "forward_on_no_answer": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64,
      "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
     },
     "forward_on_unavailable": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64,
      "description": "An extension number of the tenant, or voicemail:NUMBER (voicemail is not served yet); null: off."
     },
     "no_answer_seconds": {
      "type": [
       "integer",
       "null"
      ],
      "minimum": 1,
      "maximum": 600,
      "description": "Ring time before forward_on_no_answer (or the server ring timeout) applies; null: the server ring timeout."
     },
     "has_web_password": {
      "type": "boolean"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "ExtensionGroup": {
    "type": "object",
    "required": [
     "id",
     "tenant_id",
     "name",
     "created_at"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "tenant_id": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "Registration": {
    "type": "object",
    "required": [
     "extension_id",
     "tenant_id",
     "extension",
     "aor",
     "contact",
     "transport",
     "source",
     "registered_at",
     "expires_at",
     "user_agent"
    ],
    "properties": {
     "extension_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "tenant_id": {
      "type": "string"
     },
     "extension": {
      "type": "string"
     },
     "aor": {
      "type": "string"
     },
     "contact": {
      "type": "string"
     },
     "transport": {
      "type": "string",
      "enum": [
       "udp",
       "tcp",
       "tls",
       "ws",
       "wss"
      ]
     },
     "source": {
      "type": "string"
     },
     "registered_at": {
      "type": "string",
      "format": "date-time"
     },
     "expires_at": {
      "type": "string",
      "format": "date-time"
     },
     "user_agent": {
      "type": [
       "string",
       "null"
      ]
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
     "extensions"
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
     }
    }
   },
   "Event": {
    "type": "object",
    "required": [
     "topic",
     "type",
     "tenant_id",
     "occurred_at",
     "data"
    ],
    "properties": {
     "topic": {
      "type": "string",
      "enum": [
       "extensions"
      ]
     },
     "type": {
      "type": "string",
      "enum": [
       "registered",
       "refreshed",
       "unregistered",
       "expired",
       "flow_closed"
      ]
     },
     "tenant_id": {
      "type": "string"
     },
     "extension": {
      "type": "string"
     },
     "occurred_at": {
      "type": "string",
      "format": "date-time"
     },
     "data": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     }
    }
   },
   "Health": {
    "type": "object",
    "required": [
     "status",
     "version",
     "uptime_seconds",
     "allocator"
    ],
    "properties": {
     "status": {
      "type": "string"
     },
     "version": {
      "type": "string"
     },
     "uptime_seconds": {
      "type": "number"
     },
     "allocator": {
      "type": "string"
     }
    }
   }
  },
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT (HS256, 15 min) or an API key tk_\u2026"
   },
   "apiKey": {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key"
   }
  }
 }
}
"""##
}
